"""Score one shard: split its articles, label every sentence in one call, build the rows.

All sentences of a shard go to the predictor together, so `OnnxPredictor` can
sort thousands of them by token length and batch neighbours: batches carry
almost no padding. A shard is scored the same way whichever engine runs it
(inline, a worker pool or Ray), which is what makes their outputs identical.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from ..labels import LABELS
from ..predictor import Predictor
from ..schemas import Prediction
from ..sentences import split_sentences
from .shards import Shard, ShardResult

__all__ = ["PREDICTION_FIELDS", "SPLIT_COLUMNS", "score_shard"]

#: the columns of a split-mode row, in order
SPLIT_COLUMNS = (
    "doc_id", "sentence_index", "start", "end", "text", "claim_type", "scores", "truncated",
    "evidence",
)  # fmt: skip
#: what a prediction adds to a row, in either mode
PREDICTION_FIELDS = ("claim_type", "scores", "truncated", "evidence")


def _dumps(row: dict[str, Any]) -> str:
    # default=str: Parquet and CSV records may carry dates or decimals through --no-split
    return json.dumps(row, ensure_ascii=False, default=str)


def _add_source(sources: list[list[str]], doc_id: str, p: Prediction) -> None:
    """[doc_id, label, source as written] for the sources table, when the sentence has one."""
    if p.evidence is not None and p.evidence.source is not None:
        sources.append([doc_id, p.label.value, p.evidence.source.text])


def score_shard(shard: Shard, predictor: Predictor, split: bool = True) -> ShardResult:
    """Rows for `shard`: one per sentence, or one per article with `split=False`."""
    lines: list[str] = []
    counts: dict[str, Counter[str]] = {}
    sources: list[list[str]] = []
    if split:
        units = [
            (a.doc_id, i, s) for a in shard.articles for i, s in enumerate(split_sentences(a.text))
        ]
        predictions = predictor.predict([s.text for _, _, s in units])
        for (doc_id, i, s), p in zip(units, predictions, strict=True):
            row = {"doc_id": doc_id, "sentence_index": i, "start": s.start, "end": s.end}
            row.update(text=s.text, **p.as_row())
            lines.append(_dumps(row))
            counts.setdefault(doc_id, Counter())[p.label.value] += 1
            _add_source(sources, doc_id, p)
    else:
        predictions = predictor.predict([a.text for a in shard.articles])
        for article, p in zip(shard.articles, predictions, strict=True):
            lines.append(_dumps({**article.record, **p.as_row()}))
            counts.setdefault(article.doc_id, Counter())[p.label.value] += 1
            _add_source(sources, article.doc_id, p)
    return ShardResult(
        index=shard.index,
        rows="".join(line + "\n" for line in lines).encode(),
        n_rows=len(lines),
        articles=len(shard.articles),
        counts={doc: {k: tally[k] for k in LABELS} for doc, tally in counts.items()},
        errors=[e.to_dict() for e in shard.errors],
        sources=sources,
    )
