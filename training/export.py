"""Export a run to a model directory: ONNX fp32 + int8, parity-gated, calibrated, described.

Nothing counts until it is checked numerically: the fp32 graph must match the
PyTorch model on every evaluation set's sentences (max |delta logit|), and the
int8 graph (training/quantize.py) must agree with the fp32 one on dev and
challenge labels overall, for every class and in macro-F1 (int8 has silently
wrecked MiniLM classifiers elsewhere; a logit tolerance alone would not see it),
and give bit-identical logits to a sentence alone and inside mixed batches;
agreement on the other sets is reported.
The directory is assembled next to its destination and moved into place only
when every check passed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import re
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np

from .. import __version__
from ..artefact import (
    FORMAT_VERSION,
    MANIFEST,
    BaseModelInfo,
    Manifest,
    load_model_dir,
    sha256_file,
)
from ..evidence import EVIDENCE_TAGS
from ..labels import LABELS, Label
from ..predictor import OnnxPredictor, softmax
from ..preprocess import NORMALIZATION_VERSION, Encoder
from ..schemas import Prediction
from .bow import bow_metrics, fit_bow
from .config import BASE_MODEL_NAME, TrainConfig
from .data import EVAL_SETS, read_jsonl, write_jsonl
from .evaluate import baseline_metrics, evaluate_logits
from .metrics import classification_metrics, fit_temperature
from .quantize import CALIBRATION_METHOD, Calibration, calibration_feeds, quantize, rank_alphas
from .span_metrics import evidence_agreement, span_metrics

__all__ = [
    "EVIDENCE_OUTPUT",
    "ExportConfig",
    "ParityError",
    "check_batch_invariance",
    "evidence_metrics",
    "export",
]

log = logging.getLogger(__name__)
#: what export scores by set: logits, or (with evidence) predictions
_BySet = TypeVar("_BySet", np.ndarray, list[Prediction])

INPUTS = ["input_ids", "attention_mask", "token_type_ids"]
FP32, INT8 = "model.onnx", "model_quantized.onnx"
#: the graph output holding each token's evidence-tag logits (models with an evidence head)
EVIDENCE_OUTPUT = "evidence_logits"


class ParityError(RuntimeError):
    """The exported graph does not behave like the trained model.

    `int8_only` says every failed gate was an int8 one: the fp32 graph is fine, and
    keeping more of the int8 graph in fp32 may still pass.
    """

    def __init__(self, message: str, int8_only: bool = False) -> None:
        super().__init__(message)
        self.int8_only = int8_only


@dataclass
class ExportConfig:
    run: Path
    out: Path
    name: str = "claimtype-minilm"
    version: str = "0.0.0"
    #: the set the temperature is fitted on (default: the run's dev file, which chose the epoch)
    calibration_file: Path | None = None
    #: the sets reported in metrics.json and the model card; absent files are skipped
    eval_files: dict[str, Path] = field(default_factory=lambda: dict(EVAL_SETS))
    #: sets whose int8-vs-fp32 label agreement is gated (all sets are reported)
    gate_sets: tuple[str, ...] = ("dev", "challenge")
    max_abs_logit_diff: float = 1e-3
    #: when the int8 gates fail for every smoothing alpha, keep feed-forward output
    #: projections in fp32, one layer more at a time from the first, until they pass
    fp32_fallback: bool = True
    min_agreement: float = 0.995
    min_class_agreement: float = 0.99
    #: int8 spans identical to fp32's, per kind, on gated sentences both label alike (not fact)
    min_evidence_agreement: float = 0.99
    #: the most macro-F1 int8 may lose against fp32 on a gated set (0.003 = 0.3 point)
    max_macro_f1_loss: float = 0.003
    #: training sentences that set the int8 activation ranges, and that choose the smoothing
    calibration_sentences: int = 512
    selection_sentences: int = 256
    #: sentences scored alone and inside mixed batches: their int8 logits must be bit-identical
    invariance_sentences: int = 64
    opset: int = 17
    #: replace `out` when it exists (otherwise export refuses before doing any work)
    force: bool = False


def _torch_logits(model, encoder: Encoder, texts: list[str]) -> np.ndarray:  # type: ignore[no-untyped-def]
    import torch

    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), 64):
            batch = encoder(texts[start : start + 64])
            feed = {k: torch.from_numpy(v) for k, v in batch.arrays.items()}
            out.append(model(**feed).logits.float().numpy())
    return np.concatenate(out)


def _export_onnx(model, path: Path, opset: int, evidence: bool) -> None:  # type: ignore[no-untyped-def]
    """One graph: sentence logits, and with evidence the tag logits of every token too."""
    import torch

    class Outputs(torch.nn.Module):
        def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            out = self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return (out.logits, out.evidence_logits) if evidence else out.logits

    dummy = torch.ones((2, 16), dtype=torch.long)
    axes = {0: "batch", 1: "sequence"}
    outputs = {"logits": {0: "batch"}} | ({EVIDENCE_OUTPUT: axes} if evidence else {})
    torch.onnx.export(
        Outputs(model).eval(),
        (dummy, dummy, torch.zeros_like(dummy)),
        str(path),
        input_names=INPUTS,
        output_names=list(outputs),
        dynamic_axes={**{name: axes for name in INPUTS}, **outputs},
        opset_version=opset,
        dynamo=False,
    )


_FFN_OUTPUT = re.compile(r"layer\.(\d+)/output/dense/MatMul$")


def ffn_output_nodes(path: Path) -> list[str]:
    """The feed-forward output projections of the graph, first layer first.

    Their input is the GELU activation, whose few large values stretch a
    per-tensor int8 scale over everything else; measured one layer at a time,
    keeping the first layer's projection in fp32 restored the most agreement.
    """
    import onnx

    found = [
        (int(m.group(1)), node.name)
        for node in onnx.load(str(path), load_external_data=False).graph.node
        if node.op_type == "MatMul" and (m := _FFN_OUTPUT.search(node.name))
    ]
    return [name for _, name in sorted(found)]


def _agreement(a: np.ndarray, b: np.ndarray) -> tuple[float, dict[str, float]]:
    """Label agreement of b with a, overall and per class of a's label."""
    la, lb = a.argmax(1), b.argmax(1)
    per_class = {
        name: round(float((lb[la == i] == i).mean()), 4) if (la == i).any() else 1.0
        for i, name in enumerate(LABELS)
    }
    return round(float((la == lb).mean()), 4), per_class


def _write_manifest(
    staging: Path,
    cfg: ExportConfig,
    max_length: int,
    temperature: float,
    base_sha: str,
    evidence: bool,
) -> None:
    files = {
        p.name: sha256_file(p) for p in sorted(staging.iterdir()) if p.name not in (MANIFEST, FP32)
    }
    optional = {FP32: sha256_file(staging / FP32)} if (staging / FP32).is_file() else {}
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        name=cfg.name,
        version=cfg.version,
        labels=list(LABELS),
        max_length=max_length,
        normalization_version=NORMALIZATION_VERSION,
        inputs=INPUTS,
        evidence_output=EVIDENCE_OUTPUT if evidence else None,
        evidence_tags=list(EVIDENCE_TAGS) if evidence else None,
        onnx={"int8": INT8, "fp32": FP32},
        temperature=temperature,
        base_model=BaseModelInfo(name=BASE_MODEL_NAME, sha256=base_sha),
        files=files,
        optional_files=optional,
        created=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        claimtype_version=__version__,
    )
    (staging / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n")


def _tokenizer_files(src: Path, staging: Path, max_length: int) -> None:
    """tokenizer.json with truncation and padding set, plus what transformers needs to load it."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(src / "tokenizer.json"))
    tok.enable_truncation(max_length=max_length)
    pad_id = tok.token_to_id("[PAD]")
    tok.enable_padding(pad_id=pad_id, pad_token="[PAD]")
    tok.save(str(staging / "tokenizer.json"))
    (staging / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "BertTokenizer",
                "do_lower_case": True,
                "model_max_length": max_length,
                "unk_token": "[UNK]",
                "sep_token": "[SEP]",
                "pad_token": "[PAD]",
                "cls_token": "[CLS]",
                "mask_token": "[MASK]",
            },
            indent=2,
        )
        + "\n"
    )


def _eval_sets(cfg: ExportConfig, train_cfg: TrainConfig) -> tuple[str, dict[str, list[dict]]]:
    """The calibration set's name and every set to report, calibration set first.

    The temperature is fitted on the set the best epoch was chosen on (the run's
    dev file) unless cfg names another; report sets whose files are absent are skipped.
    """
    calibration = Path(cfg.calibration_file or train_cfg.dev_file)
    files = {name: Path(path) for name, path in cfg.eval_files.items() if Path(path).is_file()}
    name = next((n for n, path in files.items() if path.resolve() == calibration.resolve()), None)
    name = name or calibration.stem
    files = {name: calibration, **{n: path for n, path in files.items() if n != name}}
    return name, {n: read_jsonl(path) for n, path in files.items()}


def _gate_sets(cfg: ExportConfig, names: Iterable[str]) -> list[str]:
    """cfg.gate_sets among `names`, or the first name (the calibration set) when none is."""
    names = list(names)
    return [n for n in cfg.gate_sets if n in names] or names[:1]


def _parity(
    cfg: ExportConfig,
    torch: dict[str, np.ndarray],
    fp32: dict[str, np.ndarray],
    int8: dict[str, np.ndarray],
    gold: dict[str, list[int]],
) -> dict:
    """The export gates' figures; raises ParityError listing every gate that failed.

    Figures cover the sets in `int8` (by name, in the other dicts too).
    fp32 must match PyTorch on every set. int8 agreement is reported for every set
    and gated on cfg.gate_sets (the calibration set when none of them is there),
    overall, per class and in macro-F1 lost against fp32: a few near-tie sentences
    may flip, and how many depends on how many near ties a set holds, so the gate
    is held on fixed sets, not on whatever else is reported beside them.
    """
    all_fp32 = np.concatenate([fp32[name] for name in int8])
    max_diff = float(np.abs(all_fp32 - np.concatenate([torch[name] for name in int8])).max())
    by_set = {}
    for name in int8:
        agreement, per_class = _agreement(fp32[name], int8[name])
        f1 = [
            classification_metrics(gold[name], x[name].argmax(1))["macro_f1"] for x in (fp32, int8)
        ]
        by_set[name] = {
            "agreement": agreement,
            "by_class": per_class,
            "macro_f1_loss": round(f1[0] - f1[1], 4),
        }
    gated = _gate_sets(cfg, int8)
    overall, overall_class = _agreement(
        np.concatenate([fp32[n] for n in gated]), np.concatenate([int8[n] for n in gated])
    )
    fp32_failures, failures = [], []
    if max_diff >= cfg.max_abs_logit_diff:
        fp32_failures.append(
            f"fp32 vs torch max |delta logit| {max_diff:.2e} >= {cfg.max_abs_logit_diff}"
        )
    for name in gated:
        figures = by_set[name]
        if figures["agreement"] < cfg.min_agreement:
            failures.append(
                f"{name}: int8 vs fp32 agreement {figures['agreement']} < {cfg.min_agreement}"
            )
        low = {k: v for k, v in figures["by_class"].items() if v < cfg.min_class_agreement}
        if low:
            failures.append(
                f"{name}: int8 vs fp32 per-class agreement below {cfg.min_class_agreement}: {low}"
            )
        if figures["macro_f1_loss"] > cfg.max_macro_f1_loss:
            failures.append(
                f"{name}: int8 loses {figures['macro_f1_loss']} macro-F1 against fp32 "
                f"(at most {cfg.max_macro_f1_loss})"
            )
    if fp32_failures or failures:
        raise ParityError("; ".join(fp32_failures + failures), int8_only=not fp32_failures)
    return {
        "sentences": len(all_fp32),
        "fp32_vs_torch_max_abs_logit_diff": max_diff,
        "gate_sets": gated,
        "int8_vs_fp32_label_agreement": overall,
        "int8_vs_fp32_agreement_by_class": overall_class,
        "int8_vs_fp32_by_set": by_set,
    }


Plan = tuple[float, list[str]]


def _int8_plans(alphas: Sequence[float], fallback: Sequence[str]) -> Iterator[Plan]:
    """What to try, cheapest first: every smoothing alpha with every MatMul in int8,
    then the best alpha with one more feed-forward output projection in fp32 at a
    time (each costs about a tenth of the speed)."""
    for alpha in alphas:
        yield alpha, []
    for n in range(1, len(fallback) + 1):
        yield alphas[0], list(fallback[:n])


def _gated_int8(
    cfg: ExportConfig,
    plans: Iterable[Plan],
    quantise: Callable[[float, list[str]], None],
    logits_of: Callable[[str, Sequence[str]], dict[str, np.ndarray]],
    torch: dict[str, np.ndarray],
    fp32: dict[str, np.ndarray],
    gold: dict[str, list[int]],
    evidence_gate: Callable[[list[str]], dict] | None = None,
) -> tuple[dict[str, np.ndarray], dict]:
    """The int8 logits of every set and the parity figures of the first plan that passes.

    A plan is a smoothing alpha and the MatMuls kept in fp32. Plans are judged on
    the gate sets alone; the one kept is then scored on every set (its logits on
    the gate sets are the same: they do not depend on the batch). A failing fp32
    gate ends the search at once (no int8 plan can mend it). `smoothing_alpha`
    and `fp32_nodes` in the figures say which plan was kept. `evidence_gate`, for
    a model with an evidence head, checks the plan's spans on the gate sets the
    same way (raising an int8-only ParityError) and returns its figures.
    """
    gated = _gate_sets(cfg, fp32)
    failure = ParityError("no int8 plan to try", int8_only=True)
    for alpha, kept in plans:
        quantise(alpha, kept)
        try:
            _parity(cfg, torch, fp32, logits_of("int8", gated), gold)
            spans = evidence_gate(gated) if evidence_gate else {}
        except ParityError as exc:
            if not exc.int8_only:
                raise
            failure = exc
            log.info("int8 plan alpha %s, %d MatMuls in fp32: %s", alpha, len(kept), exc)
            continue
        log.info("int8 plan alpha %s, %d MatMuls in fp32: passes the gates", alpha, len(kept))
        int8 = logits_of("int8", list(fp32))
        return int8, {
            **_parity(cfg, torch, fp32, int8, gold),
            **spans,
            "smoothing_alpha": alpha,
            "fp32_nodes": kept,
        }
    raise failure


def _evidence_parity(
    cfg: ExportConfig,
    fp32: dict[str, list[Prediction]],
    int8: dict[str, list[Prediction]],
) -> dict:
    """int8 vs fp32 span agreement on the sets in int8; raises ParityError below the gate."""
    figures = {}
    for name, found in int8.items():
        compared = [
            a.label == b.label and a.label is not Label.FACT
            for a, b in zip(fp32[name], found, strict=True)
        ]
        figures[name] = evidence_agreement(
            [p.evidence for p in fp32[name]], [p.evidence for p in found], compared
        )
    failures = [
        f"{name}: int8 vs fp32 {kind} span agreement {share} < {cfg.min_evidence_agreement}"
        for name, by_kind in figures.items()
        for kind, share in by_kind.items()
        if share < cfg.min_evidence_agreement
    ]
    if failures:
        raise ParityError("; ".join(failures), int8_only=True)
    return {"int8_vs_fp32_evidence_agreement": figures}


def evidence_metrics(sets: dict[str, list[dict]], int8: dict[str, list[Prediction]]) -> dict:
    """Span F1 of the shipped (int8) graph on every set, beside the label metrics."""
    return {
        "evidence": {
            name: span_metrics(rows, [p.evidence for p in int8[name]])
            for name, rows in sets.items()
        }
    }


def _load_trained(source: Path):  # type: ignore[no-untyped-def]
    """The run's model with eager attention, and whether it has the evidence head.

    Eager attention exports as plain MatMul/Add/Softmax; transformers' default
    (sdpa) adds a Where/IsNaN mask path that cost 7% of the int8 graph's kernel time.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification

    evidence = "BertWithEvidence" in (AutoConfig.from_pretrained(source).architectures or [])
    model_class = AutoModelForSequenceClassification
    if evidence:
        from .evidence_model import BertWithEvidence

        model_class = BertWithEvidence
    model = model_class.from_pretrained(source, attn_implementation="eager").eval()
    return model, evidence


def _write_config(config, path: Path, evidence: bool) -> None:  # type: ignore[no-untyped-def]
    """config.json as a BertForSequenceClassification's, which optimum and transformers
    load; the evidence head is named in it (`evidence_tags`) but they read the logits only."""
    config = config.__class__.from_dict(config.to_dict())
    config.architectures = ["BertForSequenceClassification"]
    if evidence:
        config.evidence_tags = list(EVIDENCE_TAGS)
    config.to_json_file(str(path))


def check_batch_invariance(predictor: OnnxPredictor, texts: Sequence[str], seed: int) -> int:
    """Raise ParityError unless each sentence's logits are the same alone and in any batch.

    The sentences are scored one at a time, then shuffled into batches of 8, 32
    and 64 with neighbours of every length (so padding differs too); the logits
    must be bit-identical. Returns how many sentences were checked.
    """
    rows = predictor.encoder.tokenize(texts)
    alone = [predictor.run([row]) for row in rows]
    order = np.random.default_rng(seed).permutation(len(rows))
    for size in (8, 32, 64):
        worst = 0.0
        for start in range(0, len(order), size):
            idx = order[start : start + size]
            batched = predictor.run([rows[i] for i in idx])
            for j, i in enumerate(idx):
                for output, own in zip(batched, alone[i], strict=True):
                    # evidence tags are per token: compare the row's own tokens, not its padding
                    mine = output[j, : len(rows[i])] if output.ndim == 3 else output[j]
                    worst = max(worst, float(np.abs(mine - own[0]).max()))
        if worst > 0:
            raise ParityError(
                f"int8 outputs depend on the batch: up to {worst:.2e} apart alone and in "
                f"batches of {size}"
            )
    return len(rows)


def _calibration(cfg: ExportConfig, train_cfg: TrainConfig, encoder: Encoder) -> Calibration:
    """Training sentences for the int8 ranges and the smoothing choice: never an evaluation set."""
    return calibration_feeds(
        [r["text"] for r in read_jsonl(train_cfg.train_file)],
        encoder,
        INPUTS,
        cfg.calibration_sentences,
        cfg.selection_sentences,
        train_cfg.seed,
    )


def _bow_baseline(train_file: Path, sets: dict[str, list[dict]]) -> dict[str, dict]:
    """The bag-of-words baseline on every set, or nothing when scikit-learn is missing."""
    try:
        model = fit_bow(read_jsonl(train_file))
    except ImportError:
        return {}
    return {name: bow_metrics(model, rows) for name, rows in sets.items()}


def export(cfg: ExportConfig) -> Path:
    """Export cfg.run to cfg.out; raise ParityError (and write nothing) if a gate fails.

    An existing cfg.out is replaced only with cfg.force: it may be a released model.
    """
    if cfg.out.exists() and not cfg.force:
        raise FileExistsError(f"{cfg.out} exists: export to a new directory, or --force")
    from .model_card import write_model_card
    from .plots import plot_confusion, plot_reliability
    from .report import write_run_report

    train_cfg = TrainConfig.from_file(cfg.run / "train_config.json")
    run_info = json.loads((cfg.run / "metrics.json").read_text())
    calibration, sets = _eval_sets(cfg, train_cfg)
    texts = [r["text"] for rows in sets.values() for r in rows]
    source = cfg.run / "model"
    model, evidence = _load_trained(source)
    encoder = Encoder.from_file(source / "tokenizer.json", train_cfg.max_length)

    cfg.out.parent.mkdir(parents=True, exist_ok=True)
    staging = cfg.out.with_name(cfg.out.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    _write_config(model.config, staging / "config.json", evidence)
    _tokenizer_files(source, staging, train_cfg.max_length)
    _export_onnx(model, staging / FP32, cfg.opset, evidence)

    def by_set(items: _BySet, names: Sequence[str]) -> dict[str, _BySet]:
        """items (logits or predictions) for the sets `names` in order, cut back into sets."""
        bounds = np.cumsum([0, *(len(sets[name]) for name in names)]).tolist()
        return {n: items[a:b] for n, a, b in zip(names, bounds, bounds[1:], strict=False)}

    def write_manifest(temperature: float = 1.0) -> None:
        _write_manifest(
            staging, cfg, train_cfg.max_length, temperature, run_info["base_sha256"], evidence
        )

    #: with evidence, each precision's latest labels and spans by set, from the same pass
    #: as its logits (the gate and the span metrics read them here, not from a second pass)
    predicted: dict[str, dict[str, list[Prediction]]] = {"fp32": {}, "int8": {}}

    def logits_of(precision: str, names: Sequence[str] = tuple(sets)) -> dict[str, np.ndarray]:
        predictor = OnnxPredictor(load_model_dir(staging, precision))
        texts = [r["text"] for n in names for r in sets[n]]
        outputs = predictor.outputs_of(texts)
        if evidence:
            predicted[precision].update(by_set(outputs.predictions(texts), names))
        return by_set(outputs.logits, names)

    calibration_set = _calibration(cfg, train_cfg, encoder)
    alphas = rank_alphas(staging / FP32, calibration_set)

    def quantise(alpha: float, keep_fp32: list[str]) -> None:
        quantize(staging / FP32, staging / INT8, calibration_set, alpha, keep_fp32)
        write_manifest()

    gold = {name: [LABELS.index(r["label"]) for r in rows] for name, rows in sets.items()}
    write_manifest()  # fp32 only so far: each int8 plan writes its graph and the manifest
    fp32_by_set = logits_of("fp32")

    def evidence_gate(names: list[str]) -> dict:
        # the plan's int8 pass over `names` (in _gated_int8, just before) filled predicted
        return _evidence_parity(cfg, predicted["fp32"], {n: predicted["int8"][n] for n in names})

    fallback = ffn_output_nodes(staging / FP32) if cfg.fp32_fallback else []
    try:
        int8_by_set, parity = _gated_int8(
            cfg,
            _int8_plans(alphas, fallback),
            quantise,
            logits_of,
            by_set(_torch_logits(model, encoder, texts), list(sets)),
            fp32_by_set,
            gold,
            evidence_gate if evidence else None,
        )
        gated_texts = [r["text"] for name in parity["gate_sets"] for r in sets[name]]
        sample = random.Random(train_cfg.seed).sample(
            gated_texts, min(cfg.invariance_sentences, len(gated_texts))
        )
        invariant = check_batch_invariance(
            OnnxPredictor(load_model_dir(staging)), sample, train_cfg.seed
        )
    except ParityError:
        shutil.rmtree(staging)
        raise
    parity["quantization"] = {
        "scheme": "static int8: smoothed weight MatMuls, QDQ, per-channel int8 weights, "
        "uint8 activations with fixed ranges",
        "calibration": CALIBRATION_METHOD,
        "calibration_sentences": len(calibration_set.fit),
        "alpha_distances": {str(a): d for a, d in calibration_set.distances.items()},
        "batch_invariant_sentences": invariant,
    }
    temperature = fit_temperature(int8_by_set[calibration], gold[calibration])
    evaluations = {n: evaluate_logits(int8_by_set[n], sets[n], temperature) for n in sets}
    metrics: dict = {
        "model": f"{cfg.name}@{cfg.version}",
        "precision": "int8",
        "sets": list(sets),
        "calibration": {"set": calibration, "temperature": temperature},
        **{name: evaluation.metrics for name, evaluation in evaluations.items()},
        "fp32": {n: evaluate_logits(fp32_by_set[n], sets[n], temperature).metrics for n in sets},
        **(evidence_metrics(sets, predicted["int8"]) if evidence else {}),
        "baseline_cue_word": {name: baseline_metrics(rows) for name, rows in sets.items()},
        "baseline_bow": _bow_baseline(train_cfg.train_file, sets),
        "parity": parity,
        "training": {
            "run": str(cfg.run.resolve()),
            **{
                k: run_info[k]
                for k in ("train_sentences", "data_sha256", "code_version", "wall_seconds")
                if k in run_info
            },
        },
    }
    for name, evaluation in evaluations.items():
        write_jsonl(cfg.run / f"errors_{name}.jsonl", evaluation.errors)
        plot_confusion(evaluation.metrics, staging / f"confusion_{name}.png", f"{name} (int8)")
    plot_reliability(
        {n: (softmax(int8_by_set[n], temperature), gold[n]) for n in sets},
        staging / "reliability.png",
        f"int8, temperature {temperature} fitted on {calibration}",
    )
    shutil.copy(staging / f"confusion_{calibration}.png", cfg.run / "confusion_dev_int8.png")
    (staging / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    write_model_card(staging / "README.md", cfg.name, cfg.version, metrics, train_cfg)
    write_manifest(temperature)
    load_model_dir(staging)  # the finished directory must pass its own loader
    if cfg.out.exists():
        shutil.rmtree(cfg.out)
    staging.rename(cfg.out)
    write_run_report(cfg.run, metrics, cfg.out)
    return cfg.out
