"""A deterministic predictor for API and batch tests: no model, same interface."""

from __future__ import annotations

from collections.abc import Sequence

from claimtype.evidence import trim_span
from claimtype.labels import LABELS, Label
from claimtype.predictor import softmax, to_predictions
from claimtype.preprocess import normalize_with_offsets
from claimtype.schemas import Evidence, EvidenceSpan, Prediction
from claimtype.training.baseline import CUES, cue_word_label


def fake_evidence(text: str, label: Label) -> Evidence:
    """The cue word the baseline found, and the words before it as the source."""
    normalized = normalize_with_offsets(text)
    match = CUES[label].search(normalized.text.lower()) if label in CUES else None
    if match is None:
        return Evidence()

    def span(start: int, end: int) -> EvidenceSpan | None:
        start, end = trim_span(normalized.text, start, end)
        if start >= end:
            return None
        start, end = normalized.original_span(start, end)
        return EvidenceSpan(text=text[start:end], start=start, end=end)

    return Evidence(source=span(0, match.start()), cue=span(*match.span()))


class FakePredictor:
    """Labels by cue words, with fixed confident scores; records what it was asked.

    Evidence: the cue word that decided the label, and everything before it as the
    source — crude, but deterministic and in the runtime's shape.
    """

    name = "fake@0"

    def __init__(self, truncate_over: int | None = None) -> None:
        self.calls: list[list[str]] = []
        #: texts longer than this many characters are reported as truncated
        self.truncate_over = truncate_over

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        import numpy as np

        self.calls.append(list(texts))
        logits = np.zeros((len(texts), len(LABELS)))
        for i, text in enumerate(texts):
            logits[i, LABELS.index(cue_word_label(text))] = 4.0
        limit = self.truncate_over
        predictions = to_predictions(
            softmax(logits), [limit is not None and len(t) > limit for t in texts]
        )
        return [
            p.model_copy(update={"evidence": fake_evidence(t, p.label)})
            for p, t in zip(predictions, texts, strict=True)
        ]
