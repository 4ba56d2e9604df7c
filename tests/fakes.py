"""A deterministic predictor for API and batch tests: no model, same interface."""

from __future__ import annotations

from collections.abc import Sequence

from claimtype.labels import LABELS
from claimtype.predictor import softmax, to_predictions
from claimtype.training.baseline import cue_word_label


class FakePredictor:
    """Labels by cue words, with fixed confident scores; records what it was asked."""

    name = "fake@0"

    def __init__(self, truncate_over: int | None = None) -> None:
        self.calls: list[list[str]] = []
        #: texts longer than this many characters are reported as truncated
        self.truncate_over = truncate_over

    def predict(self, texts: Sequence[str]):  # type: ignore[no-untyped-def]
        import numpy as np

        self.calls.append(list(texts))
        logits = np.zeros((len(texts), len(LABELS)))
        for i, text in enumerate(texts):
            logits[i, LABELS.index(cue_word_label(text))] = 4.0
        limit = self.truncate_over
        return to_predictions(
            softmax(logits), [limit is not None and len(t) > limit for t in texts]
        )
