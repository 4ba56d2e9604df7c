"""The model card (README.md of a model directory), written from the measured metrics."""

from __future__ import annotations

from pathlib import Path

from serving.labels import DEFINITIONS, LABELS
from training.config import BASE_MODEL_NAME, TrainConfig

__all__ = ["write_model_card"]


def _row(name: str, m: dict) -> str:
    per = " | ".join(f"{m['per_label'][k]['f1']:.3f}" for k in LABELS)
    return f"| {name} | {m['n']} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | {per} |"


def write_model_card(path: Path, name: str, version: str, metrics: dict, cfg: TrainConfig) -> None:
    header = "| model / set | n | accuracy | macro-F1 | " + " | ".join(f"F1 {k}" for k in LABELS)
    rows = [header + " |", "|---" * (4 + len(LABELS)) + "|"]
    for split in ("dev", "challenge"):
        if split in metrics:
            rows.append(_row(f"{name} int8, {split}", metrics[split]))
            rows.append(_row(f"cue-word baseline, {split}", metrics["baseline_cue_word"][split]))
    parity = metrics["parity"]
    dev = metrics["dev"]
    labels = "\n".join(f"- `{k}`: {DEFINITIONS[k]}" for k in LABELS)
    challenge = metrics.get("challenge")
    challenge_ece = (
        f"; on challenge {challenge['ece_uncalibrated']:.3f} before, {challenge['ece']:.3f} after"
        if challenge
        else ""
    )
    text = f"""---
language: en
license: apache-2.0
library_name: onnxruntime
pipeline_tag: text-classification
tags: [claim-detection, news, onnx, int8]
---

# {name} {version}

Reads one English news sentence and says how it presents its content:

{labels}

When several apply, the first of offer, denial, claim, fact wins. The full
annotation guide is `data/LABELS.md` in the claimtype repository.

## Results

Measured on the int8 ONNX model through claimtype's own runtime
(`claimtype evaluate data/dev.jsonl --model <this directory>`). Dev sentences
come from news domains (and so stories) that are not in the training data; the
challenge set is contrast pairs written separately and never trained on.

{chr(10).join(rows)}

Calibration (temperature scaling fitted on dev, T = {dev["temperature"]}): expected
calibration error on dev {dev["ece_uncalibrated"]:.3f} before, {dev["ece"]:.3f}
after{challenge_ece}.

Export parity on {parity["dev_sentences"]} dev sentences: fp32 ONNX vs PyTorch max
|Δlogit| {parity["fp32_vs_torch_max_abs_logit_diff"]:.1e}; int8 vs fp32 label agreement
{parity["int8_vs_fp32_label_agreement"]:.4f} (per class:
{", ".join(f"{k} {v:.3f}" for k, v in parity["int8_vs_fp32_agreement_by_class"].items())}).

## Use

```bash
claimtype predict --model {path.parent} "The ministry dismissed the report as fabricated."
```

The directory also loads in ONNX Runtime directly (inputs `input_ids`,
`attention_mask`, `token_type_ids`, output `logits` in `config.json`'s `id2label`
order; divide by the manifest's `temperature` before the softmax) and in
optimum: `ORTModelForSequenceClassification.from_pretrained(dir,
file_name="model_quantized.onnx")`.

## Training

Base: {BASE_MODEL_NAME}, sha256-pinned. Fine-tuned for {cfg.epochs:g} epochs
(lr {cfg.learning_rate:g}, batch {cfg.batch_size}, max length {cfg.max_length},
label smoothing {cfg.label_smoothing:g}, seed {cfg.seed}) on
{metrics["training"].get("train_sentences", "?")} sentences written by the claimtype team
(see `data/README.md`), best epoch chosen on dev macro-F1. `manifest.json` lists
the sha256 of every file.

## Limits

English news prose, one sentence at a time; longer texts are cut at
{cfg.max_length} tokens (the API flags it). The corpus is team-written news-style
text: expect lower figures on other genres (social media, transcripts) and on
languages other than English. The label is about how a sentence presents its
content, never about whether the content is true.
"""
    path.write_text(text)
