"""The bag-of-words baseline learns words, so it must fail where words mislead."""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")

from claimtype.training.bow import bow_metrics, fit_bow


def test_bow_learns_cue_words_and_is_fooled_by_them() -> None:
    train = [
        {"text": f"The {who} offered to buy the {what}.", "label": "offer"}
        for who in ("firm", "club", "city", "bank")
        for what in ("stadium", "port", "mill")
    ] + [
        {"text": f"The {who} sold the {what} last year.", "label": "fact"}
        for who in ("firm", "club", "city", "bank")
        for what in ("stadium", "port", "mill")
    ]
    model = fit_bow(train)
    seen = [{"text": "The club offered to buy the mill.", "label": "offer"}]
    assert bow_metrics(model, seen)["accuracy"] == 1.0
    trap = [{"text": "The new stadium offered fine views of the port.", "label": "fact"}]
    assert bow_metrics(model, trap)["per_label"]["fact"]["recall"] == 0.0
