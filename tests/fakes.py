"""A deterministic predictor for API and batch tests: no model, same interface."""

from __future__ import annotations

from collections.abc import Sequence

from claimtype.labels import LABELS
from claimtype.predictor import softmax, to_predictions
from claimtype.training.baseline import cue_word_label


class FakePredictor:
    """Labels by cue words, with fixed confident scores; records what it was asked."""

    name = "fake@0"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def predict(self, texts: Sequence[str]):  # type: ignore[no-untyped-def]
        import numpy as np

        self.calls.append(list(texts))
        logits = np.zeros((len(texts), len(LABELS)))
        for i, text in enumerate(texts):
            logits[i, LABELS.index(cue_word_label(text))] = 4.0
        return to_predictions(softmax(logits), [False] * len(texts))
