"""PNG reports people would rather look at than read: confusion matrix, training curves,
reliability diagrams."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["plot_confusion", "plot_curves", "plot_reliability"]


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(metrics: dict, path: Path, title: str) -> None:
    """Confusion matrix with counts and row-normalised shading."""
    plt = _pyplot()
    cm = np.asarray(metrics["confusion"], dtype=float)
    labels = metrics["labels"]
    rows = cm / np.clip(cm.sum(axis=1, keepdims=True), 1, None)
    fig, ax = plt.subplots(figsize=(5.2, 4.6), dpi=120)
    ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(labels)):
        for j in range(len(labels)):
            color = "white" if rows[i, j] > 0.6 else "black"
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", color=color)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(f"{title}\nacc {metrics['accuracy']:.3f}  macro-F1 {metrics['macro_f1']:.3f}")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_curves(log_history: list[dict], path: Path) -> None:
    """Training loss per logging step and dev macro-F1 per epoch."""
    plt = _pyplot()
    train = [(e["epoch"], e["loss"]) for e in log_history if "loss" in e]
    dev = [(e["epoch"], e["eval_macro_f1"]) for e in log_history if "eval_macro_f1" in e]
    dev_loss = [(e["epoch"], e["eval_loss"]) for e in log_history if "eval_loss" in e]
    fig, ax = plt.subplots(figsize=(6.4, 4), dpi=120)
    if train:
        ax.plot(*zip(*train, strict=True), label="train loss")
    if dev_loss:
        ax.plot(*zip(*dev_loss, strict=True), marker="o", label="dev loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if dev:
        ax2 = ax.twinx()
        ax2.plot(*zip(*dev, strict=True), marker="s", color="tab:green", label="dev macro-F1")
        ax2.set_ylabel("dev macro-F1")
        ax2.set_ylim(0, 1)
        ax2.legend(loc="lower right")
    ax.legend(loc="upper right")
    ax.set_title("training curves")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_reliability(
    sets: Mapping[str, tuple[np.ndarray, Sequence[int]]], path: Path, title: str
) -> None:
    """One reliability diagram per set: accuracy against confidence in 10 bins, the bars'
    width showing how many sentences each bin holds; a calibrated model sits on the diagonal."""
    from .metrics import expected_calibration_error, reliability_bins

    plt = _pyplot()
    fig, axes = plt.subplots(1, len(sets), figsize=(3.4 * len(sets), 3.6), dpi=120, squeeze=False)
    for ax, (name, (probs, gold)) in zip(axes[0], sets.items(), strict=True):
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
        for share, conf, acc in reliability_bins(probs, gold, bins=10):
            ax.bar(conf, acc, width=0.02 + 0.08 * share**0.5, color="tab:blue", alpha=0.75)
            ax.plot([conf, conf], [acc, conf], color="tab:red", linewidth=1)
        ece = expected_calibration_error(probs, gold)
        ax.set_title(f"{name} (n={len(gold)})\nECE {ece:.3f}", fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("confidence")
        ax.set_aspect("equal")
    axes[0][0].set_ylabel("accuracy")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
