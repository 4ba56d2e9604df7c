"""Metrics computed through serving's OnnxPredictor, i.e. on what is actually served."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..labels import LABELS, Label, label2id
from ..predictor import OnnxPredictor, softmax
from .baseline import cue_word_labels
from .metrics import classification_metrics, expected_calibration_error
from .span_metrics import span_metrics

__all__ = ["Evaluation", "baseline_metrics", "evaluate_logits", "evaluate_predictor"]


@dataclass
class Evaluation:
    metrics: dict
    errors: list[dict]
    logits: np.ndarray


def evaluate_logits(logits: np.ndarray, rows: Sequence[dict], temperature: float) -> Evaluation:
    """Metrics, ECE before and after calibration, and the misclassified rows."""
    gold = [label2id()[r["label"]] for r in rows]
    probs = softmax(logits, temperature)
    pred = probs.argmax(axis=1).tolist()
    metrics = classification_metrics(gold, pred)
    metrics["ece_uncalibrated"] = expected_calibration_error(softmax(logits), gold)
    metrics["ece"] = expected_calibration_error(probs, gold)
    metrics["temperature"] = temperature
    errors = [
        {
            "text": row["text"],
            "gold": row["label"],
            "predicted": LABELS[p],
            "scores": {k: round(float(v), 4) for k, v in zip(LABELS, probs[i], strict=True)},
            **{k: row[k] for k in ("domain", "story", "cue") if k in row},
        }
        for i, (row, g, p) in enumerate(zip(rows, gold, pred, strict=True))
        if g != p
    ]
    return Evaluation(metrics=metrics, errors=errors, logits=logits)


def evaluate_predictor(predictor: OnnxPredictor, rows: Sequence[dict]) -> Evaluation:
    """Label metrics, and span metrics (`evidence`) when the model marks evidence."""
    texts = [r["text"] for r in rows]
    outputs = predictor.outputs_of(texts)
    evaluation = evaluate_logits(outputs.logits, rows, predictor.manifest.temperature)
    if outputs.tags is not None:
        labels = [Label(LABELS[int(i)]) for i in outputs.logits.argmax(axis=1)]
        evaluation.metrics["evidence"] = span_metrics(rows, outputs.evidence(texts, labels))
    return evaluation


def baseline_metrics(rows: Sequence[dict]) -> dict:
    """The cue-word baseline's figures on the same rows."""
    gold = [label2id()[r["label"]] for r in rows]
    pred = [label2id()[label] for label in cue_word_labels([r["text"] for r in rows])]
    return classification_metrics(gold, pred)
