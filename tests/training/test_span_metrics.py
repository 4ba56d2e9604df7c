from claimtype.schemas import Evidence, EvidenceSpan
from claimtype.training.span_metrics import evidence_agreement, span_metrics


def _span(text: str, part: str) -> EvidenceSpan:
    start = text.index(part)
    return EvidenceSpan(text=part, start=start, end=start + len(part))


def test_exact_and_token_f1_by_kind() -> None:
    a = "The ministry's spokeswoman denied the report."
    b = "Rain fell."
    rows = [
        {"text": a, "label": "denial", "evidence": {"source": [0, 26], "cue": [27, 33]}},
        {"text": b, "label": "fact", "evidence": None},
        {"text": "unmarked", "label": "claim"},  # no evidence field: left out
    ]
    found = [
        Evidence(source=_span(a, "The ministry"), cue=_span(a, "denied")),
        Evidence(),
        Evidence(source=_span("unmarked", "unmarked")),
    ]
    m = span_metrics(rows, found)
    assert m["sentences"] == 2
    assert m["cue"]["exact"]["f1"] == 1.0 and m["cue"]["token"]["f1"] == 1.0
    assert m["source"]["exact"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    # gold words: The, ministry, s, spokeswoman (4); predicted: The, ministry (2), both right
    assert m["source"]["token"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667}


def test_agreement_counts_only_the_compared_sentences() -> None:
    text = "The union said it."
    one = Evidence(source=_span(text, "The union"), cue=_span(text, "said"))
    other = Evidence(source=_span(text, "union"), cue=_span(text, "said"))
    assert evidence_agreement([one, one], [other, Evidence()], [True, False]) == {
        "source": 0.0,
        "cue": 1.0,
    }
    assert evidence_agreement([one], [other], [False]) == {"source": 1.0, "cue": 1.0}
