"""The model card (README.md of a model directory), written from the measured metrics."""

from __future__ import annotations

from pathlib import Path

from ..labels import DEFINITIONS, LABELS
from .config import BASE_MODEL_NAME, TrainConfig

__all__ = ["evidence_section", "second_output", "write_model_card"]


def _row(name: str, m: dict) -> str:
    per = " | ".join(f"{m['per_label'][k]['f1']:.3f}" for k in LABELS)
    return f"| {name} | {m['n']} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} | {per} |"


BASELINES = (("baseline_cue_word", "cue-word rules"), ("baseline_bow", "TF-IDF LR"))


def _results_table(name: str, metrics: dict) -> str:
    header = "| model / set | n | accuracy | macro-F1 | " + " | ".join(f"F1 {k}" for k in LABELS)
    rows = [header + " |", "|---" * (4 + len(LABELS)) + "|"]
    for split in metrics["sets"]:
        rows.append(_row(f"**{name} int8**, {split}", metrics[split]))
        for key, baseline in (
            ("baseline_cue_word", "cue-word rules"),
            ("baseline_bow", "TF-IDF LR"),
        ):
            if split in metrics.get(key, {}):
                rows.append(_row(f"{baseline}, {split}", metrics[key][split]))
    return "\n".join(rows)


def _agreement_by_set(parity: dict) -> str:
    return ", ".join(f"{n} {v['agreement']:.4f}" for n, v in parity["int8_vs_fp32_by_set"].items())


def _int8_scheme(parity: dict) -> str:
    q, kept = parity["quantization"], parity["fp32_nodes"]
    scheme = (
        f" int8 is static: weight MatMuls smoothed (alpha {parity['smoothing_alpha']}) and "
        f"quantised with activation ranges fixed on {q['calibration_sentences']} training "
        f"sentences, so scores do not depend on the batch (bit-identical alone and in batches "
        f"of 8, 32 and 64 for {q['batch_invariant_sentences']} sentences checked at export)."
    )
    if not kept:
        return scheme
    return (
        f"{scheme} To pass the int8 gates, {len(kept)} feed-forward output projection(s) stay "
        "in fp32: " + ", ".join(f"`{name}`" for name in kept) + "."
    )


def _calibration(metrics: dict) -> str:
    fitted = metrics["calibration"]
    per_set = "; ".join(
        f"{s} {metrics[s]['ece_uncalibrated']:.3f} before, {metrics[s]['ece']:.3f} after"
        for s in metrics["sets"]
    )
    return (
        f"Temperature scaling fitted on {fitted['set']} (T = {fitted['temperature']}). "
        f"Expected calibration error (15 bins): {per_set}. Reliability diagrams: "
        "`reliability.png`."
    )


def evidence_section(metrics: dict) -> str:
    """The span section, for a model with the evidence head."""
    if "evidence" not in metrics:
        return ""
    rows = [
        "| set | sentences | source exact F1 | source token F1 | cue exact F1 | cue token F1 |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in metrics["evidence"].items():
        s, c = m["source"], m["cue"]
        rows.append(
            f"| {name} | {m['sentences']} | {s['exact']['f1']:.3f} | {s['token']['f1']:.3f} "
            f"| {c['exact']['f1']:.3f} | {c['token']['f1']:.3f} |"
        )
    agreement = metrics["parity"].get("int8_vs_fp32_evidence_agreement", {})
    by_set = "; ".join(
        f"{n}: source {a['source']:.4f}, cue {a['cue']:.4f}" for n, a in agreement.items()
    )
    parity = (
        f"\nint8 vs fp32 span agreement on sentences both label alike (not fact): {by_set}.\n"
        if agreement
        else ""
    )
    return f"""
## Evidence spans

With each label the model marks, in the same forward pass, the `source` (who the
claim, denial or offer comes from) and the `cue` (the words that carry the type),
as character offsets (`data/EVIDENCE.md` defines them; a fact has none). A token
head tags every word piece O / B- / I-SOURCE / CUE; claimtype keeps the surest run
of each kind and widens it to whole words. Exact F1 counts a span when its offsets
equal the gold span's; token F1 gives credit per word shared with it (int8, every
set marked by two readers, never trained on):

{chr(10).join(rows)}
{parity}"""


def second_output(metrics: dict) -> str:
    if "evidence" not in metrics:
        return ""
    return (
        "; a second output, `evidence_logits`, scores `config.json`'s `evidence_tags` "
        "for every token"
    )


def write_model_card(path: Path, name: str, version: str, metrics: dict, cfg: TrainConfig) -> None:
    parity = metrics["parity"]
    directory = path.parent.name.removesuffix(".staging")  # export writes the card before the move
    labels = "\n".join(f"- `{k}`: {DEFINITIONS[k]}" for k in LABELS)
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
(`claimtype evaluate data/dev_wire.jsonl --model <this directory> --baseline --bow`).
None of these sets is trained on. dev: team-written sentences on three beats the
training data does not cover; dev_wire: sentences written in the shape of real wire
copy (long, nested, attributed in many ways) on beats and stories of its own, the set
that chose the epoch and the temperature; challenge: contrast pairs written separately.
Baselines: keyword rules applying the guide's precedence, and a TF-IDF (word 1-2-gram)
logistic regression fitted on the same training data.

{_results_table(name, metrics)}

{_calibration(metrics)}

Export parity on {parity["sentences"]} sentences of these sets: fp32 ONNX vs PyTorch max
|Δlogit| {parity["fp32_vs_torch_max_abs_logit_diff"]:.1e}; int8 vs fp32 label agreement
{parity["int8_vs_fp32_label_agreement"]:.4f} on {" + ".join(parity["gate_sets"])} (per class:
{", ".join(f"{k} {v:.3f}" for k, v in parity["int8_vs_fp32_agreement_by_class"].items())});
by set: {_agreement_by_set(parity)}.{_int8_scheme(parity)}
{evidence_section(metrics)}
## Use

```bash
claimtype predict --model models/{directory} "The ministry dismissed the report as fabricated."
```

The directory also loads in ONNX Runtime directly (inputs `input_ids`,
`attention_mask`, `token_type_ids`, output `logits` in `config.json`'s `id2label`
order; divide by the manifest's `temperature` before the softmax{second_output(metrics)}) and in
optimum: `ORTModelForSequenceClassification.from_pretrained(dir,
file_name="model_quantized.onnx")`, which reads the labels only.

## Training

Base: {BASE_MODEL_NAME}, sha256-pinned. Fine-tuned for {cfg.epochs:g} epochs
(lr {cfg.learning_rate:g}, batch {cfg.batch_size}, max length {cfg.max_length},
label smoothing {cfg.label_smoothing:g}, seed {cfg.seed}) on
{metrics["training"].get("train_sentences", "?")} sentences written by the claimtype team
(see `data/README.md`), best epoch chosen on {Path(cfg.dev_file).stem} macro-F1.
`manifest.json` lists the sha256 of every file.

## Limits

English news prose, one sentence at a time; longer texts are cut at
{cfg.max_length} tokens (the API flags it). The corpus is team-written news-style
text: expect lower figures on other genres (social media, transcripts) and on
languages other than English. The label is about how a sentence presents its
content, never about whether the content is true.
"""
    path.write_text(text)
