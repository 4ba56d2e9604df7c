"""Export a run to a model directory: ONNX fp32 + int8, parity-gated, calibrated, described.

Nothing counts until it is checked numerically: the fp32 graph must match the
PyTorch model on dev (max |delta logit|), and the int8 graph must agree with the
fp32 one on dev labels overall and for every class (dynamic int8 has silently
wrecked MiniLM classifiers elsewhere; a logit tolerance alone would not see it).
The directory is assembled next to its destination and moved into place only
when every check passed.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from serving import __version__
from serving.artefact import (
    FORMAT_VERSION,
    MANIFEST,
    BaseModelInfo,
    Manifest,
    load_model_dir,
    sha256_file,
)
from serving.labels import LABELS
from serving.predictor import OnnxPredictor
from serving.preprocess import NORMALIZATION_VERSION, Encoder
from training.config import BASE_MODEL_NAME, TrainConfig
from training.data import read_jsonl, write_jsonl
from training.evaluate import baseline_metrics, evaluate_logits
from training.metrics import fit_temperature

__all__ = ["ExportConfig", "ParityError", "export"]

INPUTS = ["input_ids", "attention_mask", "token_type_ids"]
FP32, INT8 = "model.onnx", "model_quantized.onnx"


class ParityError(RuntimeError):
    """The exported graph does not behave like the trained model."""


@dataclass
class ExportConfig:
    run: Path
    out: Path
    name: str = "claimtype-minilm"
    version: str = "0.0.0"
    dev_file: Path | None = None
    challenge_file: Path | None = Path("data/challenge.jsonl")
    max_abs_logit_diff: float = 1e-3
    min_agreement: float = 0.99
    min_class_agreement: float = 0.97
    opset: int = 17


def _torch_logits(model, encoder: Encoder, texts: list[str]) -> np.ndarray:  # type: ignore[no-untyped-def]
    import torch

    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), 64):
            batch = encoder(texts[start : start + 64])
            feed = {k: torch.from_numpy(v) for k, v in batch.arrays.items()}
            out.append(model(**feed).logits.float().numpy())
    return np.concatenate(out)


def _export_onnx(model, path: Path, opset: int) -> None:  # type: ignore[no-untyped-def]
    import torch

    class LogitsOnly(torch.nn.Module):
        def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).logits

    dummy = torch.ones((2, 16), dtype=torch.long)
    axes = {0: "batch", 1: "sequence"}
    torch.onnx.export(
        LogitsOnly(model).eval(),
        (dummy, dummy, torch.zeros_like(dummy)),
        str(path),
        input_names=INPUTS,
        output_names=["logits"],
        dynamic_axes={**{name: axes for name in INPUTS}, "logits": {0: "batch"}},
        opset_version=opset,
        dynamo=False,
    )


def _quantize(fp32: Path, int8: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True)


def _agreement(a: np.ndarray, b: np.ndarray) -> tuple[float, dict[str, float]]:
    """Label agreement of b with a, overall and per class of a's label."""
    la, lb = a.argmax(1), b.argmax(1)
    per_class = {
        name: round(float((lb[la == i] == i).mean()), 4) if (la == i).any() else 1.0
        for i, name in enumerate(LABELS)
    }
    return round(float((la == lb).mean()), 4), per_class


def _write_manifest(
    staging: Path, cfg: ExportConfig, max_length: int, temperature: float, base_sha: str
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


def export(cfg: ExportConfig) -> Path:
    """Export cfg.run to cfg.out; raise ParityError (and write nothing) if a gate fails."""
    from transformers import AutoModelForSequenceClassification

    from training.model_card import write_model_card
    from training.plots import plot_confusion
    from training.report import write_run_report

    train_cfg = TrainConfig.from_file(cfg.run / "train_config.json")
    run_info = json.loads((cfg.run / "metrics.json").read_text())
    dev_rows = read_jsonl(cfg.dev_file or train_cfg.dev_file)
    texts = [r["text"] for r in dev_rows]
    source = cfg.run / "model"
    model = AutoModelForSequenceClassification.from_pretrained(source).eval()
    encoder = Encoder.from_file(source / "tokenizer.json", train_cfg.max_length)

    cfg.out.parent.mkdir(parents=True, exist_ok=True)
    staging = cfg.out.with_name(cfg.out.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    model.config.to_json_file(str(staging / "config.json"))
    _tokenizer_files(source, staging, train_cfg.max_length)
    _export_onnx(model, staging / FP32, cfg.opset)
    _quantize(staging / FP32, staging / INT8)
    _write_manifest(staging, cfg, train_cfg.max_length, 1.0, run_info["base_sha256"])

    fp32 = OnnxPredictor(load_model_dir(staging, "fp32"))
    int8 = OnnxPredictor(load_model_dir(staging, "int8"))
    torch_logits = _torch_logits(model, encoder, texts)
    fp32_logits, _ = fp32.logits(texts)
    int8_logits, _ = int8.logits(texts)
    max_diff = float(np.abs(fp32_logits - torch_logits).max())
    agreement, per_class = _agreement(fp32_logits, int8_logits)
    parity = {
        "dev_sentences": len(texts),
        "fp32_vs_torch_max_abs_logit_diff": max_diff,
        "int8_vs_fp32_label_agreement": agreement,
        "int8_vs_fp32_agreement_by_class": per_class,
    }
    failures = []
    if max_diff >= cfg.max_abs_logit_diff:
        failures.append(
            f"fp32 vs torch max |delta logit| {max_diff:.2e} >= {cfg.max_abs_logit_diff}"
        )
    if agreement < cfg.min_agreement:
        failures.append(f"int8 vs fp32 agreement {agreement} < {cfg.min_agreement}")
    low = {k: v for k, v in per_class.items() if v < cfg.min_class_agreement}
    if low:
        failures.append(f"int8 vs fp32 per-class agreement below {cfg.min_class_agreement}: {low}")
    if failures:
        shutil.rmtree(staging)
        raise ParityError("; ".join(failures))

    temperature = fit_temperature(int8_logits, [LABELS.index(r["label"]) for r in dev_rows])
    dev_eval = evaluate_logits(int8_logits, dev_rows, temperature)
    metrics: dict = {
        "model": f"{cfg.name}@{cfg.version}",
        "precision": "int8",
        "dev": dev_eval.metrics,
        "dev_fp32": evaluate_logits(fp32_logits, dev_rows, temperature).metrics,
        "baseline_cue_word": {"dev": baseline_metrics(dev_rows)},
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
    write_jsonl(cfg.run / "errors_dev.jsonl", dev_eval.errors)
    plot_confusion(dev_eval.metrics, staging / "confusion_dev.png", "dev (int8 ONNX)")
    shutil.copy(staging / "confusion_dev.png", cfg.run / "confusion_dev_int8.png")
    if cfg.challenge_file and Path(cfg.challenge_file).is_file():
        challenge_rows = read_jsonl(cfg.challenge_file)
        ch_logits, _ = int8.logits([r["text"] for r in challenge_rows])
        ch_eval = evaluate_logits(ch_logits, challenge_rows, temperature)
        metrics["challenge"] = ch_eval.metrics
        metrics["baseline_cue_word"]["challenge"] = baseline_metrics(challenge_rows)
        write_jsonl(cfg.run / "errors_challenge.jsonl", ch_eval.errors)
        plot_confusion(ch_eval.metrics, staging / "confusion_challenge.png", "challenge (int8)")
    (staging / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    write_model_card(staging / "README.md", cfg.name, cfg.version, metrics, train_cfg)
    _write_manifest(staging, cfg, train_cfg.max_length, temperature, run_info["base_sha256"])
    load_model_dir(staging)  # the finished directory must pass its own loader
    if cfg.out.exists():
        shutil.rmtree(cfg.out)
    staging.rename(cfg.out)
    write_run_report(cfg.run, metrics, cfg.out)
    return cfg.out
