"""How well predicted evidence spans match the corpus's, and int8's match fp32's.

Two views per span kind, both micro-averaged over a set:
- exact-match F1: a predicted span counts when its offsets equal the gold span's;
  precision over predicted spans, recall over gold spans (a fact has none of either);
- token-overlap F1: over word tokens (runs of letters and digits), the tokens a
  predicted span shares with the gold span of its sentence; precision over the
  tokens predicted, recall over the tokens in gold. Partial credit for "the
  ministry" against "the ministry's spokeswoman", none for the wrong party.
Sentences without marked evidence (unmarked rows) are left out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..evidence import EVIDENCE_KINDS
from ..schemas import Evidence

__all__ = ["evidence_agreement", "span_metrics"]

_WORD = re.compile(r"\w+")
Span = tuple[int, int] | None


def _words(text: str, span: Span) -> set[int]:
    """Start offsets of the word tokens inside span."""
    if span is None:
        return set()
    return {m.start() for m in _WORD.finditer(text) if m.start() >= span[0] and m.end() <= span[1]}


def _f1(hits: int, predicted: int, gold: int) -> dict[str, float]:
    precision = hits / predicted if predicted else 0.0
    recall = hits / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def _predicted(evidence: Evidence | None, kind: str) -> Span:
    span = getattr(evidence, kind) if evidence is not None else None
    return None if span is None else (span.start, span.end)


def _gold(row: dict, kind: str) -> Span:
    span = (row.get("evidence") or {}).get(kind)
    return None if span is None else (span[0], span[1])


def span_metrics(rows: Sequence[dict], evidence: Sequence[Evidence | None]) -> dict:
    """Exact-match and token-overlap F1 of source and cue spans over the marked rows."""
    marked = [(r, e) for r, e in zip(rows, evidence, strict=True) if "evidence" in r]
    out: dict = {"sentences": len(marked)}
    for kind in EVIDENCE_KINDS:
        exact = [0, 0, 0]  # hits, predicted, gold
        tokens = [0, 0, 0]
        for row, found in marked:
            gold, predicted = _gold(row, kind), _predicted(found, kind)
            exact[0] += gold is not None and gold == predicted
            exact[1] += predicted is not None
            exact[2] += gold is not None
            g, p = _words(row["text"], gold), _words(row["text"], predicted)
            tokens[0] += len(g & p)
            tokens[1] += len(p)
            tokens[2] += len(g)
        out[kind] = {"exact": _f1(*exact), "token": _f1(*tokens)}
    return out


def evidence_agreement(
    a: Sequence[Evidence | None], b: Sequence[Evidence | None], compared: Sequence[bool]
) -> dict[str, float]:
    """Per span kind, the share of the compared sentences with the same span (or none) in a and b.

    The caller compares sentences given the same non-fact label by both: a label
    flip is the label gate's business, and facts have no spans to differ.
    """
    pairs = [(x, y) for x, y, same in zip(a, b, compared, strict=True) if same]
    if not pairs:
        return dict.fromkeys(EVIDENCE_KINDS, 1.0)
    return {
        kind: round(
            sum(_predicted(x, kind) == _predicted(y, kind) for x, y in pairs) / len(pairs), 4
        )
        for kind in EVIDENCE_KINDS
    }
