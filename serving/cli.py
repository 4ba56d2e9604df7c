"""`claimtype`: one entry point, a subcommand per job.

Each subcommand is a thin wrapper over plain functions that tests call
directly. Heavy imports (onnxruntime, torch, transformers) happen inside the
subcommand that needs them, so `claimtype --help` is instant, and the training
subcommands tell the user which extra to install when torch is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .extras import install_hint
from .labels import LABELS

__all__ = ["main"]

TRAIN_EXTRA = f"this command needs the training extra: {install_hint('train')}"

#: `serve` flags named like their settings (--idle-timeout is CLAIMTYPE_IDLE_TIMEOUT)
SERVER_LIMITS = ("idle_timeout", "request_timeout", "max_connections", "graceful_timeout")


def _settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .settings import Settings

    names = ("model", "precision", "threads", "host", "port", "batch_size", *SERVER_LIMITS)
    overrides = {k: v for k in names if (v := getattr(args, k, None)) is not None}
    return Settings(**overrides)


def _predictor(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .api import load_predictor

    return load_predictor(_settings(args))


def _require_training() -> None:
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        raise SystemExit(TRAIN_EXTRA) from None


def cmd_predict(args: argparse.Namespace) -> int:
    texts = args.texts or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not texts:
        raise SystemExit("predict: give sentences as arguments or on standard input")
    predictor = _predictor(args)
    for text, p in zip(texts, predictor.predict(texts), strict=True):
        if args.json:
            print(json.dumps({"text": text, **p.model_dump(mode="json")}, ensure_ascii=False))
        else:
            scores = "  ".join(f"{k} {p.scores[k]:.3f}" for k in LABELS)
            print(f"{p.label.value:<7} {scores}  {text}")
    return 0


def _score_engine(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The engine and the model identity for `score`, from its flags."""
    from .cpus import cores
    from .engines import InlineEngine, PoolEngine, PredictorSpec

    settings = _settings(args)
    workers = args.workers or cores()
    threads = settings.threads or max(1, cores() // workers)
    spec = PredictorSpec(settings.model, settings.precision, threads, settings.batch_size)
    identity = spec.identity()
    if args.engine == "ray":
        from .ray_engine import RayEngine

        try:
            return RayEngine(spec, workers), identity
        except ImportError as exc:
            raise SystemExit(f"score: {exc}") from None
    if workers == 1:
        return InlineEngine(spec()), identity
    return PoolEngine(spec, workers, args.parallel), identity


def cmd_score(args: argparse.Namespace) -> int:
    from .batch import ScoreOptions, score
    from .shards import JobMismatchError

    options = ScoreOptions(
        text_field=args.text_field,
        id_field=args.id_field or None,
        split=not args.no_split,
        shard_size=args.shard_size,
        resume=args.resume,
        keep_work=args.keep_work,
        errors=Path(args.errors) if args.errors else None,
        summary=Path(args.summary) if args.summary else None,
        progress=not args.quiet,
    )
    engine, identity = _score_engine(args)
    try:
        report = score([Path(p) for p in args.inputs], Path(args.out), engine, options, identity)
    except (FileNotFoundError, JobMismatchError, ValueError) as exc:
        raise SystemExit(f"score: {exc}") from None
    unit = "sentences" if options.split else "records"
    print(
        f"scored {report.rows} {unit} of {report.articles} articles into {report.out} "
        f"({report.shards} shards, {report.resumed} resumed)",
        file=sys.stderr,
    )
    if report.partial:
        print(f"partial: {len(report.errors)} problems, see {report.errors_path}", file=sys.stderr)
    return 2 if report.partial else 0


def cmd_bench_score(args: argparse.Namespace) -> int:
    import runpy

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_score.py"
    if not script.is_file():
        raise SystemExit("bench: benchmarks/bench_score.py is in the source checkout only")
    return int(runpy.run_path(str(script), run_name="claimtype_bench")["main"](args.extra) or 0)


def cmd_serve(args: argparse.Namespace) -> int:
    from .api import create_app, load_predictor
    from .server import serve

    settings = _settings(args)
    # load (and verify) the model before uvicorn starts: a bad directory is one clear
    # line and exit status 3, and the lifespan does not load it a second time
    serve(settings, create_app(settings, load_predictor(settings)))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .api import load_predictor
    from .training.data import read_jsonl, validate_rows, write_jsonl
    from .training.evaluate import baseline_metrics, evaluate_predictor

    rows = read_jsonl(Path(args.data))
    problems = validate_rows(rows, args.data)
    if problems:
        raise SystemExit("\n".join(problems[:20]))
    evaluation = evaluate_predictor(load_predictor(_settings(args)), rows)
    m = evaluation.metrics
    if args.errors:
        write_jsonl(Path(args.errors), evaluation.errors)
    if args.json:
        print(json.dumps(m, indent=2))
        return 0
    print(f"{args.data}: {m['n']} sentences")
    print(f"accuracy {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f}  ECE {m['ece']:.4f}")
    print(f"{'label':<8}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}")
    for k in LABELS:
        r = m["per_label"][k]
        print(f"{k:<8}{r['precision']:>10.3f}{r['recall']:>8.3f}{r['f1']:>8.3f}{r['support']:>9}")
    print("confusion (rows gold, columns predicted):")
    print(" " * 8 + "".join(f"{k:>8}" for k in LABELS))
    for k, row in zip(LABELS, m["confusion"], strict=True):
        print(f"{k:<8}" + "".join(f"{v:>8}" for v in row))
    if args.baseline:
        b = baseline_metrics(rows)
        print(f"cue-word baseline: accuracy {b['accuracy']:.4f}  macro-F1 {b['macro_f1']:.4f}")
    if args.bow:
        b = _bow_figures(Path(args.train_file), rows)
        print(
            f"bag-of-words baseline (TF-IDF LR fitted on {args.train_file}): "
            f"accuracy {b['accuracy']:.4f}  macro-F1 {b['macro_f1']:.4f}"
        )
    if args.reliability:
        _reliability_png(evaluation, rows, Path(args.reliability), args.data)
    return 0


def _bow_figures(train_file: Path, rows: list[dict]) -> dict:
    from .training.data import read_jsonl

    try:
        from .training.bow import bow_metrics, fit_bow

        return bow_metrics(fit_bow(read_jsonl(train_file)), rows)
    except ImportError as exc:
        raise SystemExit(f"evaluate --bow: {exc}") from None


def _reliability_png(evaluation, rows: list[dict], path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    from .labels import label2id
    from .predictor import softmax

    try:
        from .training.plots import plot_reliability
    except ImportError as exc:
        raise SystemExit(f"evaluate --reliability needs matplotlib: {exc}") from None
    probs = softmax(evaluation.logits, evaluation.metrics["temperature"])
    gold = [label2id()[r["label"]] for r in rows]
    plot_reliability({Path(name).stem: (probs, gold)}, path, "calibrated scores as served")
    print(f"reliability diagram: {path}")


def cmd_train(args: argparse.Namespace) -> int:
    _require_training()
    from .training.config import TrainConfig
    from .training.train import train

    values = json.loads(Path(args.config).read_text()) if args.config else {}
    for key in (
        "train_file", "dev_file", "out", "epochs", "max_steps", "seed", "learning_rate",
        "batch_size", "base_model", "base_sha256", "max_length", "threads", "report_to",
        "wire_repeat", "cue_mask_prob",
    ):  # fmt: skip
        if (value := getattr(args, key)) is not None:
            values[key] = value
    run = train(TrainConfig.from_dict(values))
    print(json.dumps(json.loads((run / "metrics.json").read_text())["dev_torch"]["macro_f1"]))
    print(f"run directory: {run}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    _require_training()
    from .training.export import ExportConfig, export

    cfg = ExportConfig(
        run=Path(args.run), out=Path(args.out), name=args.name or Path(args.out).name
    )
    if args.version:
        cfg.version = args.version
    if args.calibration_file:
        cfg.calibration_file = Path(args.calibration_file)
    if args.eval_set is not None:
        cfg.eval_files = dict(_named_path(spec) for spec in args.eval_set)
    out = export(cfg)
    metrics = json.loads((out / "metrics.json").read_text())
    print(json.dumps({"model": str(out), "parity": metrics["parity"]}, indent=2))
    return 0


def _named_path(spec: str) -> tuple[str, Path]:
    name, sep, path = spec.partition("=")
    if not sep or not name or not path:
        raise SystemExit(f"--eval-set takes NAME=FILE, not {spec!r}")
    return name, Path(path)


def cmd_data_validate(args: argparse.Namespace) -> int:
    from .training.data import HELD_OUT_BEATS, read_jsonl, stats, validate_splits

    splits = {Path(p).stem: read_jsonl(Path(p)) for p in args.files}
    problems = validate_splits(splits, HELD_OUT_BEATS)
    for name, rows in splits.items():
        print(name, json.dumps(stats(rows)))
    for p in problems:
        print("problem:", p)
    return 1 if problems else 0


def cmd_data_build(args: argparse.Namespace) -> int:
    from .training.data import HELD_OUT_BEATS, build_splits, stats, validate_splits, write_jsonl

    src = Path(args.sources)
    splits = build_splits(
        sorted(src.glob("*.jsonl")),
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


def cmd_data_add(args: argparse.Namespace) -> int:
    from .training.add_data import add_data, write_refused

    try:
        report = add_data(
            Path(args.file),
            Path(args.to),
            _held_out_files(args),
            domain=args.domain,
            dry_run=args.dry_run,
        )
    except (OSError, ValueError) as exc:  # unreadable files, a CSV without its header
        raise SystemExit(f"data add: {exc}") from None
    if args.refused:
        write_refused(Path(args.refused), report)
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
    return 2 if any(r.kind == "invalid" for r in report.refused) else 0


def cmd_feedback_export(args: argparse.Namespace) -> int:
    from .feedback import FeedbackStore, export_feedback
    from .settings import Settings

    db = Path(args.db) if args.db else Settings().feedback_db
    if not db.is_file():
        raise SystemExit(f"feedback export: {db} does not exist (no feedback received yet?)")
    read, written = export_feedback(FeedbackStore(db), Path(args.out))
    print(f"{db}: {read} corrections, {written} sentences written to {args.out}")
    print(f"next: claimtype data add {args.out} --dry-run")
    return 0


def _held_out_paths(args: argparse.Namespace) -> dict[str, Path]:
    """The evaluation sets named by --dev, --dev-wire and --challenge.

    dev_wire is optional when not given: a corpus from before it existed still works.
    """
    from .training.data import EVAL_SETS

    paths = {"dev": Path(args.dev), "challenge": Path(args.challenge)}
    dev_wire = Path(args.dev_wire) if args.dev_wire else EVAL_SETS["dev_wire"]
    if args.dev_wire or dev_wire.is_file():
        paths["dev_wire"] = dev_wire
    return paths


def _held_out_files(args: argparse.Namespace) -> list[Path]:
    return list(_held_out_paths(args).values())


def _eval_sets(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .training.promote import load_sets

    try:
        return load_sets(_held_out_paths(args))
    except (FileNotFoundError, ValueError) as exc:
        raise SystemExit(f"{args.command}: {exc}") from None


def _reload_server(url: str, model: Path) -> None:
    """Ask a running server to load `model` (POST /v1/admin/reload with CLAIMTYPE_ADMIN_KEY)."""
    import urllib.error
    import urllib.request

    key = os.environ.get("CLAIMTYPE_ADMIN_KEY", "")
    if not key:
        raise SystemExit("--reload needs the server's admin key in CLAIMTYPE_ADMIN_KEY")
    request = urllib.request.Request(
        url.rstrip("/") + "/v1/admin/reload",
        data=json.dumps({"model": str(model.resolve())}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            info = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise SystemExit(f"reload refused by {url} ({exc.code}): {detail}") from None
    except OSError as exc:
        raise SystemExit(f"reload: cannot reach {url}: {exc}") from None
    print(f"{url} now serves {info['name']}@{info['version']}")


def cmd_compare(args: argparse.Namespace) -> int:
    from .settings import Settings
    from .training.promote import compare, comparison_json, format_comparison, gate

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


def cmd_promote(args: argparse.Namespace) -> int:
    from .training.promote import PromotionRefused, format_comparison, promote

    models = Path(args.models)
    try:
        done = promote(
            Path(args.candidate), models, _eval_sets(args), args.force, args.note, args.threads
        )
    except PromotionRefused as exc:
        print(format_comparison(exc.comparison))
        print(exc)
        print("nothing changed; --force promotes anyway (recorded in the registry)")
        return 1
    print(format_comparison(done.comparison))
    if done.gate_failures:
        print("FORCED past the gate:\n  " + "\n  ".join(done.gate_failures))
    parent = done.version.parent or "none"
    print(f"current: {done.version.version} in {done.directory} (was {parent})")
    if args.reload:
        _reload_server(args.reload, done.directory)
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from .registry import rollback

    models = Path(args.models)
    old, new = rollback(models, args.note)
    print(f"current: {new.version} in {models / new.dir} (was {old.version})")
    if args.reload:
        _reload_server(args.reload, models / new.dir)
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from .registry import read_registry

    registry = read_registry(Path(args.models))
    if registry is None:
        print(f"{args.models}: no registry yet (claimtype promote creates it)")
        return 0
    if args.json:
        print(registry.model_dump_json(indent=2))
        return 0

    def figure(x: float | None, width: int) -> str:
        return f"{x:>{width}.4f}" if x is not None else f"{'-':>{width}}"

    columns = {"dev": "dev F1", "dev_wire": "wire F1", "challenge": "chall. F1"}
    print(f"  {'version':<14}{'parent':<14}" + "".join(f"{c:>10}" for c in columns.values()))
    for v in registry.versions.values():
        mark = "*" if v.version == registry.current else " "
        f1 = "".join(figure(v.metrics.get(s, {}).get("macro_f1"), 10) for s in columns)
        forced = "  (forced)" if v.forced else ""
        print(f"{mark} {v.version:<14}{v.parent or '-':<14}{f1}  {v.dir}{forced}")
    return 0


def _model_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, help="model directory (default: the shipped model)")
    p.add_argument("--precision", choices=["int8", "fp32"], help="ONNX model to run")
    p.add_argument("--threads", type=int, help="ONNX Runtime threads (default: all cores)")
    p.add_argument("--batch-size", type=int, dest="batch_size")


def held_out_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dev", default="data/dev.jsonl", help="held-out dev set")
    p.add_argument(
        "--dev-wire", help="realistic dev set (default data/dev_wire.jsonl when it exists)"
    )
    p.add_argument("--challenge", default="data/challenge.jsonl", help="held-out challenge set")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claimtype",
        description="Label news sentences as fact, claim, denial or offer. "
        "Settings also come from CLAIMTYPE_* environment variables.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help: str):  # type: ignore[no-untyped-def]
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        return p

    p = add("predict", cmd_predict, "label sentences given as arguments or on standard input")
    p.add_argument("texts", nargs="*", metavar="TEXT")
    p.add_argument("--json", action="store_true", help="one JSON object a line")
    _model_flags(p)

    p = add("score", cmd_score, "score archives of articles, sentence by sentence (resumable)")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files or directories (recursive)")
    p.add_argument("--out", required=True, help="OUT.jsonl, OUT.csv or OUT.parquet")
    p.add_argument("--no-split", action="store_true", help="one output record per input record")
    p.add_argument("--text-field", default="text", help="record field holding the article")
    p.add_argument("--id-field", default="id", help="record field used as doc_id ('' for none)")
    p.add_argument("--shard-size", type=int, default=100, help="articles per shard")
    p.add_argument("--resume", action="store_true", help="finish an interrupted job")
    p.add_argument("--keep-work", action="store_true", help="keep OUT.work/ after success")
    p.add_argument("--errors", help="errors report (default OUT.errors.jsonl)")
    p.add_argument("--summary", help="per-document counts by label (.jsonl or .csv)")
    p.add_argument("--engine", choices=["local", "ray"], default="local")
    p.add_argument("--workers", type=int, help="workers or Ray actors (default: cores)")
    p.add_argument("--parallel", choices=["threads", "processes"], default="threads")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _model_flags(p)

    bench = sub.add_parser("bench", help="speed benchmarks (source checkout only)")
    bench_sub = bench.add_subparsers(dest="bench_command", required=True, metavar="BENCHMARK")
    p = bench_sub.add_parser(
        "score", help="claimtype score vs the PyTorch pipeline", add_help=False
    )
    p.set_defaults(func=cmd_bench_score, passthrough=True)  # options go to bench_score.py

    p = add("serve", cmd_serve, "run the REST API")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    for flag, meaning in (
        ("--idle-timeout", "seconds a connection may wait for its next request"),
        ("--request-timeout", "seconds to receive a request's headers and body"),
        ("--max-connections", "open connections; one more is answered 503"),
        ("--graceful-timeout", "seconds SIGTERM waits for requests in flight"),
    ):
        kind = int if flag == "--max-connections" else float
        p.add_argument(
            flag, type=kind, help=f"{meaning} (CLAIMTYPE_{flag[2:].upper().replace('-', '_')})"
        )
    _model_flags(p)

    p = add("evaluate", cmd_evaluate, "accuracy, macro-F1, per-label figures on labelled JSONL")
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
    _model_flags(p)

    p = add("train", cmd_train, "fine-tune MiniLM on the corpus (needs the train extra)")
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
    p.add_argument("--threads", type=int)
    p.add_argument("--base-model", dest="base_model")
    p.add_argument("--base-sha256", dest="base_sha256")
    p.add_argument("--report-to", nargs="*", dest="report_to", help="tensorboard and/or mlflow")

    p = add("export", cmd_export, "export a run to a parity-checked ONNX model directory")
    p.add_argument("run", metavar="RUN")
    p.add_argument("--out", required=True)
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

    data = sub.add_parser("data", help="build and validate the labelled corpus")
    data_sub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    p = data_sub.add_parser("validate", help="labels, duplicates, cross-split overlap")
    p.add_argument("files", nargs="+", metavar="SPLIT.jsonl")
    p.set_defaults(func=cmd_data_validate)
    p = data_sub.add_parser("build", help="split the authored sources into train/dev/challenge")
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
    p.set_defaults(func=cmd_data_build)
    p = data_sub.add_parser(
        "add", help="validate new labelled rows, drop duplicates and leaks, append to train"
    )
    p.add_argument("file", metavar="FILE", help="JSONL or CSV with text,label[,domain]")
    p.add_argument("--to", default="data/train.jsonl", help="training file to append to")
    held_out_flags(p)
    p.add_argument("--domain", default="added", help="domain of rows that name none")
    p.add_argument("--dry-run", action="store_true", help="report only; change nothing")
    p.add_argument("--refused", help="write refused rows with their reasons to this JSONL file")
    p.set_defaults(func=cmd_data_add)

    feedback = sub.add_parser("feedback", help="users' corrections sent to POST /v1/feedback")
    feedback_sub = feedback.add_subparsers(dest="feedback_command", required=True)
    p = feedback_sub.add_parser("export", help="write corrections as labelled JSONL")
    p.add_argument("--out", required=True, metavar="FILE.jsonl")
    p.add_argument("--db", help="feedback database (default CLAIMTYPE_FEEDBACK_DB)")
    p.set_defaults(func=cmd_feedback_export)

    def eval_flags(p: argparse.ArgumentParser) -> None:
        held_out_flags(p)
        p.add_argument("--threads", type=int, help="ONNX Runtime threads")

    p = add("compare", cmd_compare, "evaluate a candidate model beside the current one")
    p.add_argument("candidate", metavar="CANDIDATE")
    p.add_argument("--against", help="model directory (default: the current model)")
    p.add_argument("--json", action="store_true")
    eval_flags(p)

    p = add("promote", cmd_promote, "make a candidate the default model if it is not worse")
    p.add_argument("candidate", metavar="CANDIDATE")
    p.add_argument("--models", default="models", help="models root holding registry.json")
    p.add_argument("--force", action="store_true", help="promote even if the gate refuses")
    p.add_argument("--note", default="", help="why, recorded in the registry")
    p.add_argument("--reload", metavar="URL", help="then hot-reload the server at URL")
    eval_flags(p)

    p = add("rollback", cmd_rollback, "make the previous model version current again")
    p.add_argument("--models", default="models")
    p.add_argument("--note", default="")
    p.add_argument("--reload", metavar="URL", help="then hot-reload the server at URL")

    p = add("models", cmd_models, "list installed model versions (* is current)")
    p.add_argument("--models", default="models")
    p.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "passthrough", False):  # only `bench` passes options on
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `claimtype evaluate ... | head`: the reader left, not an error
        with contextlib.suppress(OSError, ValueError):  # stdout may not be a real file
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes at exit
            os.close(devnull)
        return 141
    except Exception as exc:
        from .artefact import ModelDirError

        if isinstance(exc, ModelDirError):
            print(f"claimtype: {exc}", file=sys.stderr)
            return 3
        raise


if __name__ == "__main__":
    sys.exit(main())
