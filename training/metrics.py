"""Classification and calibration metrics (numpy only, so they are cheap to test)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from ..labels import LABELS
from ..predictor import softmax

__all__ = [
    "classification_metrics",
    "expected_calibration_error",
    "fit_temperature",
    "reliability_bins",
]


def classification_metrics(gold: Sequence[int], pred: Sequence[int]) -> dict:
    """Accuracy, macro-F1, per-label precision/recall/F1/support and the confusion matrix.

    confusion[i][j] counts sentences of gold label i predicted as label j.
    """
    k = len(LABELS)
    cm = np.zeros((k, k), dtype=np.int64)
    for g, p in zip(gold, pred, strict=True):
        cm[g, p] += 1
    per_label = {}
    f1s = []
    for i, name in enumerate(LABELS):
        tp = cm[i, i]
        predicted, actual = cm[:, i].sum(), cm[i, :].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        per_label[name] = {
            "precision": round(float(precision), 4),
            "recall": round(float(recall), 4),
            "f1": round(float(f1), 4),
            "support": int(actual),
        }
    total = cm.sum()
    return {
        "n": int(total),
        "accuracy": round(float(np.trace(cm) / total), 4) if total else 0.0,
        "macro_f1": round(float(np.mean(f1s)), 4),
        "per_label": per_label,
        "confusion": cm.tolist(),
        "labels": list(LABELS),
    }


def reliability_bins(
    probs: np.ndarray, gold: Sequence[int], bins: int = 15
) -> list[tuple[float, float, float]]:
    """(share of sentences, mean confidence, accuracy) of each non-empty equal-width bin of
    top-label confidence: what ECE sums and what a reliability diagram draws."""
    gold = np.asarray(gold)
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == gold).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    out = []
    for lo, hi in itertools.pairwise(edges):
        in_bin = (confidence > lo) & (confidence <= hi)
        if in_bin.any():
            share = float(in_bin.mean())
            out.append((share, float(confidence[in_bin].mean()), float(correct[in_bin].mean())))
    return out


def expected_calibration_error(probs: np.ndarray, gold: Sequence[int], bins: int = 15) -> float:
    """ECE of the top-label confidence, in equal-width bins."""
    ece = sum(share * abs(acc - conf) for share, conf, acc in reliability_bins(probs, gold, bins))
    return round(float(ece), 4)


def _nll(logits: np.ndarray, gold: np.ndarray, temperature: float) -> float:
    p = softmax(logits, temperature)[np.arange(len(gold)), gold]
    return float(-np.log(np.clip(p, 1e-12, None)).mean())


def fit_temperature(logits: np.ndarray, gold: Sequence[int]) -> float:
    """The temperature minimising dev negative log-likelihood (temperature scaling).

    A log-spaced grid then a golden-section refinement: one parameter, so no
    optimiser library is needed and the fit is deterministic.
    """
    gold = np.asarray(gold)
    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 121))
    best = int(np.argmin([_nll(logits, gold, t) for t in grid]))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    ratio = (np.sqrt(5) - 1) / 2
    for _ in range(60):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if _nll(logits, gold, a) < _nll(logits, gold, b):
            hi = b
        else:
            lo = a
    return round(float((lo + hi) / 2), 4)
