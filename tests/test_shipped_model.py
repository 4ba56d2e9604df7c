"""End to end with the shipped model (marked `model`): the guide's own examples."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from claimtype.artefact import load_model_dir
from claimtype.predictor import OnnxPredictor

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "models" / "claimtype-minilm"
EXAMPLE = re.compile(r'"([^"]+)" → (fact|claim|denial|offer)')
GUIDE_EXAMPLES = EXAMPLE.findall((ROOT / "data" / "LABELS.md").read_text())

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def predictor() -> OnnxPredictor:
    return OnnxPredictor(load_model_dir(SHIPPED), threads=2)


def test_the_guide_has_examples() -> None:
    assert len(GUIDE_EXAMPLES) >= 40


#: guide examples the network itself leaves at a tie (fp32 margin < 0.01): int8 may fall on
#: either side, so they are reported, not required (the model card and README say which)
NEAR_TIES = {
    "The former director pleaded guilty to bribery.": "fp32: fact 0.343, denial 0.337, claim 0.291",
}
CASES = [
    pytest.param(text, label, marks=pytest.mark.xfail(reason=NEAR_TIES[text], strict=False))
    if text in NEAR_TIES
    else (text, label)
    for text, label in GUIDE_EXAMPLES
]


@pytest.mark.parametrize(("text", "label"), CASES, ids=[t[:40] for t, _ in GUIDE_EXAMPLES])
def test_guide_example_gets_its_label(predictor: OnnxPredictor, text: str, label: str) -> None:
    (prediction,) = predictor.predict([text])
    assert prediction.label.value == label, prediction.scores


def test_shipped_metrics_are_the_ones_served(predictor: OnnxPredictor) -> None:
    """metrics.json must describe this model: recompute dev macro-F1 through the runtime."""
    import json

    from claimtype.training.data import read_jsonl
    from claimtype.training.evaluate import evaluate_predictor

    metrics = json.loads((SHIPPED / "metrics.json").read_text())
    dev = read_jsonl(ROOT / "data" / "dev.jsonl")
    ours = evaluate_predictor(predictor, dev).metrics
    assert ours["n"] == metrics["dev"]["n"]
    assert ours["macro_f1"] == pytest.approx(metrics["dev"]["macro_f1"], abs=0.01)


def test_int8_scores_do_not_depend_on_the_batch(predictor: OnnxPredictor) -> None:
    """Every dev and challenge sentence: alone, and shuffled into batches of 8, 32 and 64."""
    from claimtype.training.data import read_jsonl
    from claimtype.training.export import check_batch_invariance

    texts = [
        r["text"]
        for name in ("dev", "challenge")
        for r in read_jsonl(ROOT / "data" / f"{name}.jsonl")
    ]
    assert check_batch_invariance(predictor, texts, seed=0) == len(texts) == 1281
    one_by_one = OnnxPredictor(load_model_dir(SHIPPED), threads=1, batch_size=1)
    assert one_by_one.predict(texts[:200]) == predictor.predict(texts[:200][::-1])[::-1]


def test_shipped_evidence_figures_are_the_ones_served(predictor: OnnxPredictor) -> None:
    """metrics.json's span figures on dev_wire, recomputed through the runtime."""
    import json

    from claimtype.training.data import read_jsonl
    from claimtype.training.evaluate import evaluate_predictor

    reported = json.loads((SHIPPED / "metrics.json").read_text())["evidence"]["dev_wire"]
    rows = read_jsonl(ROOT / "data" / "dev_wire.jsonl")
    assert evaluate_predictor(predictor, rows).metrics["evidence"] == reported


def test_evidence_marks_who_and_which_words(predictor: OnnxPredictor) -> None:
    texts = [
        "The ministry dismissed the report as fabricated.",
        "\u201cWe are ready to talk,\u201d  the union\u2019s chief negotiator, Mara Voss, said.",
        "The bridge reopened on Monday.",
    ]
    dismissed, ready, reopened = predictor.predict(texts)
    assert dismissed.evidence is not None and dismissed.evidence.source is not None
    assert dismissed.evidence.cue is not None
    assert (dismissed.evidence.source.text, dismissed.evidence.cue.text) == (
        "The ministry",
        "dismissed",
    )
    assert ready.label.value != "fact" and ready.evidence is not None
    source = ready.evidence.source
    assert source is not None and texts[1][source.start : source.end] == source.text
    assert source.text.startswith("the union\u2019s chief negotiator")
    assert reopened.evidence is not None and reopened.evidence.source is None
