"""The training commands, added to `claimtype` through the `claimtype.commands` entry point.

`claimtype.cli` finds them without importing the training side by name (the
runtime never does); this module imports nothing heavy until a command runs,
so `claimtype --help` stays instant with or without torch installed.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..cli.command import Command, Group
from ..cli.options import model_flags, predictor_from
from ..cli.remote import reload_server
from ..extras import install_hint
from ..labels import LABELS

if TYPE_CHECKING:
    from .attach_evidence import AttachConfig

__all__ = ["COMMANDS"]

TRAIN_EXTRA = f"this command needs the training extra: {install_hint('train')}"
TRAIN_FLAGS = (
    "train_file", "dev_file", "out", "epochs", "max_steps", "seed", "learning_rate",
    "batch_size", "base_model", "base_sha256", "max_length", "threads", "report_to",
    "wire_repeat", "cue_mask_prob", "evidence_weight", "init_from", "head_learning_rate",
    "evidence_layers", "evidence_kernel", "evidence_only",
)  # fmt: skip


def require_training() -> None:
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        raise SystemExit(TRAIN_EXTRA) from None


# --- train -------------------------------------------------------------------------------


def _layer_list(value: str) -> tuple[int, ...]:
    """Encoder layers as the flags take them: "2,4,6"."""
    return tuple(int(n) for n in value.split(",") if n)


def _evidence_arguments(p: argparse.ArgumentParser) -> None:
    """Flags to start from a finished run and to shape the evidence head."""
    p.add_argument(
        "--evidence-weight",
        type=float,
        dest="evidence_weight",
        help="weight of the evidence-span loss (0: label-only model)",
    )
    p.add_argument(
        "--head-learning-rate",
        type=float,
        dest="head_learning_rate",
        help="the evidence head's learning rate (default: --learning-rate)",
    )
    p.add_argument(
        "--init-from", dest="init_from", help="start from this run's model (a fine-tuned encoder)"
    )
    p.add_argument(
        "--evidence-layers",
        dest="evidence_layers",
        type=_layer_list,
        help="encoder layers the evidence head reads, e.g. 2,4,6 (default: the last)",
    )
    p.add_argument(
        "--evidence-kernel",
        dest="evidence_kernel",
        type=int,
        help="tokens each evidence decision sees (odd; 0: a linear head)",
    )
    p.add_argument(
        "--evidence-only",
        dest="evidence_only",
        action="store_true",
        default=None,
        help="with --init-from: train the evidence head alone, labels unchanged",
    )


def train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="JSON file of TrainConfig values; flags override it")
    p.add_argument("--train-file", dest="train_file")
    p.add_argument("--dev-file", dest="dev_file")
    p.add_argument("--out", help="run directory (default runs/latest)")
    p.add_argument("--epochs", type=float)
    p.add_argument("--max-steps", type=int, dest="max_steps")
    p.add_argument("--seed", type=int)
    p.add_argument("--learning-rate", type=float, dest="learning_rate")
    p.add_argument("--batch-size", type=int, dest="batch_size")
    p.add_argument("--max-length", type=int, dest="max_length")
    p.add_argument("--wire-repeat", type=int, dest="wire_repeat", help="wire-style rows per epoch")
    p.add_argument(
        "--cue-mask-prob", type=float, dest="cue_mask_prob", help="mask hard cases' cue words"
    )
    _evidence_arguments(p)
    p.add_argument("--threads", type=int)
    p.add_argument("--base-model", dest="base_model")
    p.add_argument("--base-sha256", dest="base_sha256")
    p.add_argument("--report-to", nargs="*", dest="report_to", help="tensorboard and/or mlflow")


def train_run(args: argparse.Namespace) -> int:
    require_training()
    from .config import TrainConfig
    from .train import train

    values = json.loads(Path(args.config).read_text()) if args.config else {}
    values |= {k: v for k in TRAIN_FLAGS if (v := getattr(args, k)) is not None}
    run = train(TrainConfig.from_dict(values))
    print(json.dumps(json.loads((run / "metrics.json").read_text())["dev_torch"]["macro_f1"]))
    print(f"run directory: {run}")
    return 0


def soup_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN", help="finished runs from the same base")
    p.add_argument("--out", required=True, help="the new run directory")


def soup_run(args: argparse.Namespace) -> int:
    require_training()
    from .soup import average_runs

    run = average_runs([Path(r) for r in args.runs], Path(args.out))
    print(f"run directory: {run}")
    return 0


# --- export ------------------------------------------------------------------------------


def export_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", metavar="RUN")
    p.add_argument("--out", required=True)
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--name")
    p.add_argument("--version")
    p.add_argument(
        "--calibration-file",
        help="set to fit the temperature on (default: the run's dev file, which chose the epoch)",
    )
    p.add_argument(
        "--eval-set",
        action="append",
        metavar="NAME=FILE",
        help="a set to report (repeatable; default: dev, dev_wire and challenge under data/)",
    )


def _named_path(spec: str) -> tuple[str, Path]:
    name, sep, path = spec.partition("=")
    if not sep or not name or not path:
        raise SystemExit(f"--eval-set takes NAME=FILE, not {spec!r}")
    return name, Path(path)


def export_run(args: argparse.Namespace) -> int:
    require_training()
    from .export import ExportConfig, ParityError, export
    from .export import log as export_log

    # each int8 plan tried takes seconds: say which, and why it was passed over
    export_log.addHandler(logging.StreamHandler())
    export_log.setLevel(logging.INFO)
    export_log.propagate = False  # the quantiser configures the root logger: say it once

    out = Path(args.out)
    cfg = ExportConfig(run=Path(args.run), out=out, name=args.name or out.name, force=args.force)
    if args.version:
        cfg.version = args.version
    if args.calibration_file:
        cfg.calibration_file = Path(args.calibration_file)
    if args.eval_set is not None:
        cfg.eval_files = dict(_named_path(spec) for spec in args.eval_set)
    try:
        done = export(cfg)
    except FileExistsError as exc:
        raise SystemExit(f"export: {exc}") from None
    except ParityError as exc:
        raise SystemExit(f"export refused, nothing written: {exc}") from None
    metrics = json.loads((done / "metrics.json").read_text())
    print(json.dumps({"model": str(done), "parity": metrics["parity"]}, indent=2))
    return 0


# --- attach-evidence ---------------------------------------------------------------------


def attach_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL_DIR", help="an exported model")
    p.add_argument("--out", required=True)
    p.add_argument("--version", required=True, help="the new directory's version")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument(
        "--replace",
        action="store_true",
        help="drop MODEL_DIR's own evidence head and train a new one (default: refuse)",
    )
    p.add_argument(
        "--train-file",
        action="append",
        dest="train_files",
        metavar="FILE",
        help="corpus file whose marked rows the head learns (repeatable; default: "
        "data/train.jsonl and data/v4_sources/*.jsonl)",
    )
    p.add_argument(
        "--layers",
        type=_layer_list,
        help="encoder layers the head reads (default: 2,4,6)",
    )
    p.add_argument("--width", type=int, help="channels of the head (default: 128)")
    p.add_argument("--kernel", type=int, help="word pieces each tag decision sees (default: 5)")
    p.add_argument(
        "--attention-heads",
        type=int,
        help="heads of the self-attention block over the sentence (default: 4; 0: none)",
    )
    p.add_argument("--epochs", type=int, help="default: 10")
    p.add_argument("--seed", type=int)
    p.add_argument("--threads", type=int, help="ONNX Runtime threads (default: 2)")
    p.add_argument(
        "--eval-set",
        action="append",
        metavar="NAME=FILE",
        help="a set whose scores must stay identical and whose spans are reported "
        "(repeatable; default: dev, dev_wire and challenge under data/)",
    )


def _attach_config(args: argparse.Namespace) -> AttachConfig:
    """The AttachConfig the flags ask for; unset flags keep its defaults."""
    from .attach_evidence import AttachConfig

    chosen = {
        k: getattr(args, k)
        for k in ("layers", "width", "kernel", "attention_heads", "epochs", "seed", "threads")
        if getattr(args, k) is not None
    }
    if args.train_files:
        chosen["train_files"] = tuple(Path(f) for f in args.train_files)
    if args.eval_set is not None:
        chosen["eval_files"] = dict(_named_path(spec) for spec in args.eval_set)
    return AttachConfig(
        model=Path(args.model),
        out=Path(args.out),
        version=args.version,
        force=args.force,
        replace=args.replace,
        **chosen,
    )


def attach_run(args: argparse.Namespace) -> int:
    require_training()
    from .attach_evidence import attach_evidence
    from .attach_evidence import log as attach_log
    from .export import ParityError

    attach_log.addHandler(logging.StreamHandler())
    attach_log.setLevel(logging.INFO)
    try:
        done = attach_evidence(_attach_config(args))
    except (FileExistsError, ValueError) as exc:
        raise SystemExit(f"attach-evidence: {exc}") from None
    except ParityError as exc:
        raise SystemExit(f"attach-evidence refused, nothing written: {exc}") from None
    metrics = json.loads((done / "metrics.json").read_text())
    head = metrics["evidence_head"]
    print(
        f"model directory: {done} ({head['labels_identical_sentences']} sentences' scores "
        f"bit-identical to {head['attached_to']}; {head['wall_seconds']} s)"
    )
    for name, spans in metrics["evidence"].items():
        print(f"{name}: ", end="")
        _print_spans(spans)
    return 0


# --- evaluate ----------------------------------------------------------------------------


def evaluate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", metavar="DATA.jsonl")
    p.add_argument("--json", action="store_true")
    p.add_argument("--errors", help="write the misclassified sentences to this JSONL file")
    p.add_argument("--baseline", action="store_true", help="also print the cue-word baseline")
    p.add_argument(
        "--bow",
        action="store_true",
        help="also print a TF-IDF bag-of-words baseline fitted on --train-file (train extra)",
    )
    p.add_argument("--train-file", default="data/train.jsonl", help="training data for --bow")
    p.add_argument("--reliability", metavar="PNG", help="write a reliability diagram")
    model_flags(p)


def _print_metrics(name: str, m: dict[str, Any]) -> None:
    print(f"{name}: {m['n']} sentences")
    print(f"accuracy {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f}  ECE {m['ece']:.4f}")
    print(f"{'label':<8}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}")
    for k in LABELS:
        r = m["per_label"][k]
        print(f"{k:<8}{r['precision']:>10.3f}{r['recall']:>8.3f}{r['f1']:>8.3f}{r['support']:>9}")
    print("confusion (rows gold, columns predicted):")
    print(" " * 8 + "".join(f"{k:>8}" for k in LABELS))
    for k, row in zip(LABELS, m["confusion"], strict=True):
        print(f"{k:<8}" + "".join(f"{v:>8}" for v in row))


def _bow_figures(train_file: Path, rows: list[dict]) -> dict:
    from .data import read_jsonl

    try:
        from .bow import bow_metrics, fit_bow

        return bow_metrics(fit_bow(read_jsonl(train_file)), rows)
    except ImportError as exc:
        raise SystemExit(f"evaluate --bow: {exc}") from None


def _reliability_png(evaluation: Any, rows: list[dict], path: Path, name: str) -> None:
    from ..labels import label2id
    from ..predictor import softmax

    try:
        from .plots import plot_reliability
    except ImportError as exc:
        raise SystemExit(
            f"evaluate --reliability needs matplotlib ({install_hint('train')})"
        ) from exc
    probs = softmax(evaluation.logits, evaluation.metrics["temperature"])
    gold = [label2id()[r["label"]] for r in rows]
    plot_reliability({Path(name).stem: (probs, gold)}, path, "calibrated scores as served")
    print(f"reliability diagram: {path}")


def _baselines(args: argparse.Namespace, rows: list[dict]) -> None:
    from .evaluate import baseline_metrics

    if args.baseline:
        b = baseline_metrics(rows)
        print(f"cue-word baseline: accuracy {b['accuracy']:.4f}  macro-F1 {b['macro_f1']:.4f}")
    if args.bow:
        b = _bow_figures(Path(args.train_file), rows)
        print(
            f"bag-of-words baseline (TF-IDF LR fitted on {args.train_file}): "
            f"accuracy {b['accuracy']:.4f}  macro-F1 {b['macro_f1']:.4f}"
        )


def _print_spans(spans: dict | None) -> None:
    if not spans:
        return
    print(f"evidence spans ({spans['sentences']} marked sentences):")
    for kind in ("source", "cue"):
        exact, token = spans[kind]["exact"], spans[kind]["token"]
        print(
            f"  {kind:<7} exact F1 {exact['f1']:.3f} (P {exact['precision']:.3f} "
            f"R {exact['recall']:.3f})  token F1 {token['f1']:.3f}"
        )


def evaluate_run(args: argparse.Namespace) -> int:
    from .data import read_jsonl, validate_rows, write_jsonl
    from .evaluate import evaluate_predictor

    rows = read_jsonl(Path(args.data))
    problems = validate_rows(rows, args.data)
    if problems:
        raise SystemExit("\n".join(problems[:20]))
    evaluation = evaluate_predictor(predictor_from(args), rows)
    if args.errors:
        write_jsonl(Path(args.errors), evaluation.errors)
    if args.json:
        print(json.dumps(evaluation.metrics, indent=2))
        return 0
    _print_metrics(args.data, evaluation.metrics)
    _print_spans(evaluation.metrics.get("evidence"))
    _baselines(args, rows)
    if args.reliability:
        _reliability_png(evaluation, rows, Path(args.reliability), args.data)
    return 0


# --- data validate / build / add ---------------------------------------------------------


def held_out_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dev", default="data/dev.jsonl", help="held-out dev set")
    p.add_argument(
        "--dev-wire", help="realistic dev set (default data/dev_wire.jsonl when it exists)"
    )
    p.add_argument("--challenge", default="data/challenge.jsonl", help="held-out challenge set")


def held_out_paths(args: argparse.Namespace) -> dict[str, Path]:
    """The evaluation sets named by --dev, --dev-wire and --challenge.

    dev_wire is optional when not given: a corpus from before it existed still works.
    """
    from .data import EVAL_SETS

    paths = {"dev": Path(args.dev), "challenge": Path(args.challenge)}
    dev_wire = Path(args.dev_wire) if args.dev_wire else EVAL_SETS["dev_wire"]
    if args.dev_wire or dev_wire.is_file():
        paths["dev_wire"] = dev_wire
    return paths


def validate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="SPLIT.jsonl")


def validate_run(args: argparse.Namespace) -> int:
    from .data import HELD_OUT_BEATS, read_jsonl, stats, validate_splits

    splits = {Path(p).stem: read_jsonl(Path(p)) for p in args.files}
    problems = validate_splits(splits, HELD_OUT_BEATS)
    for name, rows in splits.items():
        print(name, json.dumps(stats(rows)))
    for p in problems:
        print("problem:", p)
    return 1 if problems else 0


def build_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sources", default="data/sources")
    p.add_argument("--challenge-sources", default="data/challenge_sources")
    p.add_argument(
        "--dev-wire-sources",
        default="data/dev_wire_sources",
        help="the realistic dev set's files, taken whole (on beats train does not cover)",
    )
    p.add_argument("--out", default="data")
    p.add_argument(
        "--dev-domains",
        default="agriculture_food,education,entertainment_culture",
        help="comma-separated domains held out whole for dev",
    )
    p.add_argument(
        "--dev-fraction", type=float, default=0.0, help="share of other domains' stories"
    )
    p.add_argument("--seed", type=int, default=7)


def build_run(args: argparse.Namespace) -> int:
    from .data import HELD_OUT_BEATS, build_splits, stats, validate_splits, write_jsonl

    splits = build_splits(
        sorted(Path(args.sources).glob("*.jsonl")),
        sorted(Path(args.challenge_sources).glob("*.jsonl")),
        args.dev_fraction,
        args.seed,
        [d for d in args.dev_domains.split(",") if d],
        sorted(Path(args.dev_wire_sources).glob("*.jsonl")),
    )
    problems = validate_splits(splits, HELD_OUT_BEATS)
    for p in problems:
        print("problem:", p)
    if problems:
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in splits.items():
        write_jsonl(out / f"{name}.jsonl", rows)
        print(name, json.dumps(stats(rows)))
    return 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="JSONL or CSV with text,label[,domain]")
    p.add_argument("--to", default="data/train.jsonl", help="training file to append to")
    held_out_flags(p)
    p.add_argument("--domain", default="added", help="domain of rows that name none")
    p.add_argument("--dry-run", action="store_true", help="report only; change nothing")
    p.add_argument("--refused", help="write refused rows with their reasons to this JSONL file")


def _print_added(args: argparse.Namespace, report: Any) -> None:
    labels = ", ".join(f"{k} {n}" for k, n in report.accepted_by_label().items())
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(report.refused_by_kind().items()))
    print(f"{args.file}: {report.read} rows read")
    print(f"  accepted {len(report.accepted)}" + (f" ({labels})" if report.accepted else ""))
    print(f"  refused  {len(report.refused)}" + (f" ({kinds})" if report.refused else ""))
    for r in report.refused:
        print(f"  line {r.line}: {r.kind}: {r.reason}")
    if report.written:
        print(f"appended {len(report.accepted)} rows to {args.to}")
    elif args.dry_run:
        print(f"dry run: {args.to} not changed")
    if args.refused:
        print(f"refused rows with their reasons: {args.refused}")


def add_run(args: argparse.Namespace) -> int:
    from .add_data import add_data, write_refused

    held_out = list(held_out_paths(args).values())
    try:
        report = add_data(
            Path(args.file), Path(args.to), held_out, domain=args.domain, dry_run=args.dry_run
        )
    except (OSError, ValueError) as exc:  # unreadable files, a CSV without its header
        raise SystemExit(f"data add: {exc}") from None
    if args.refused:
        write_refused(Path(args.refused), report)
    _print_added(args, report)
    return 2 if any(r.kind == "invalid" for r in report.refused) else 0


# --- compare / promote -------------------------------------------------------------------


def _eval_sets(args: argparse.Namespace) -> Any:
    from .promote import load_sets

    try:
        return load_sets(held_out_paths(args))
    except (FileNotFoundError, ValueError) as exc:
        raise SystemExit(f"{args.command}: {exc}") from None


def eval_flags(p: argparse.ArgumentParser) -> None:
    held_out_flags(p)
    p.add_argument("--threads", type=int, help="ONNX Runtime threads")


def compare_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("candidate", metavar="CANDIDATE")
    p.add_argument("--against", help="model directory (default: the current model)")
    p.add_argument("--json", action="store_true")
    eval_flags(p)


def compare_run(args: argparse.Namespace) -> int:
    from ..settings import Settings
    from .promote import compare, comparison_json, format_comparison, gate

    against = Path(args.against) if args.against else Settings().model_path()
    comparison = compare(Path(args.candidate), against, _eval_sets(args), args.threads)
    if args.json:
        print(comparison_json(comparison))
        return 0
    print(format_comparison(comparison))
    assert comparison.against_metrics is not None
    failures = gate(comparison.candidate_metrics, comparison.against_metrics)
    print("promotion gate: " + ("would refuse:" if failures else "would pass"))
    for reason in failures:
        print(f"  {reason}")
    return 0


def promote_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("candidate", metavar="CANDIDATE")
    p.add_argument("--models", default="models", help="models root holding registry.json")
    p.add_argument("--force", action="store_true", help="promote even if the gate refuses")
    p.add_argument("--note", default="", help="why, recorded in the registry")
    p.add_argument("--reload", metavar="URL", help="then hot-reload the server at URL")
    eval_flags(p)


def promote_run(args: argparse.Namespace) -> int:
    from .promote import PromotionRefused, format_comparison, promote

    try:
        done = promote(
            Path(args.candidate), Path(args.models), _eval_sets(args), args.force, args.note,
            args.threads,
        )  # fmt: skip
    except PromotionRefused as exc:
        print(format_comparison(exc.comparison))
        print(exc)
        print("nothing changed; --force promotes anyway (recorded in the registry)")
        return 1
    print(format_comparison(done.comparison))
    if done.gate_failures:
        print("FORCED past the gate:\n  " + "\n  ".join(done.gate_failures))
    print(
        f"current: {done.version.version} in {done.directory} (was {done.version.parent or 'none'})"
    )
    if args.reload:
        reload_server(args.reload, done.directory)
    return 0


DATA = Group(
    "data",
    "build and validate the labelled corpus",
    [
        Command("validate", "labels, duplicates, cross-split overlap", validate_arguments,
                validate_run),
        Command("build", "split the authored sources into train/dev/challenge", build_arguments,
                build_run),
        Command("add", "validate new labelled rows, drop duplicates and leaks, append to train",
                add_arguments, add_run),
    ],
)  # fmt: skip
COMMANDS = (
    Command("evaluate", "accuracy, macro-F1, per-label figures on labelled JSONL",
            evaluate_arguments, evaluate_run),
    Command("train", "fine-tune MiniLM on the corpus (needs the train extra)", train_arguments,
            train_run),
    Command("soup", "average finished runs' weights into a new run (a model soup)",
            soup_arguments, soup_run),
    Command("export", "export a run to a parity-checked ONNX model directory", export_arguments,
            export_run),
    Command("attach-evidence", "train an evidence head on an exported model, labels unchanged",
            attach_arguments, attach_run),
    DATA,
    Command("compare", "evaluate a candidate model beside the current one", compare_arguments,
            compare_run),
    Command("promote", "make a candidate the default model if it is not worse",
            promote_arguments, promote_run),
)  # fmt: skip
