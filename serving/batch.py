"""Batch scoring of JSONL records, streamed in chunks so archives of any size fit in memory.

One output record per well-formed input record, in input order, carrying the
input's fields plus `claim_type` and `scores`. A malformed line is reported with
its line number and skipped; the rest is still scored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from serving.predictor import Predictor

__all__ = ["ScoreReport", "score_jsonl"]


@dataclass
class ScoreReport:
    scored: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        return bool(self.errors)


def _records(fh: IO[str], text_field: str, report: ScoreReport) -> Iterator[dict]:
    for lineno, line in enumerate(fh, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            report.errors.append(f"line {lineno}: not JSON ({exc})")
            continue
        if not isinstance(record, dict) or not isinstance(record.get(text_field), str):
            report.errors.append(f"line {lineno}: no string field {text_field!r}")
            continue
        if not record[text_field].strip():
            report.errors.append(f"line {lineno}: {text_field!r} is empty")
            continue
        yield record


def _chunks(records: Iterator[dict], size: int) -> Iterator[list[dict]]:
    chunk: list[dict] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def score_jsonl(
    source: Path,
    out: Path,
    predictor: Predictor,
    text_field: str = "text",
    chunk_size: int = 2048,
    progress: bool = False,
) -> ScoreReport:
    """Score every record of `source` into `out` (one-in, one-out)."""
    from tqdm import tqdm

    report = ScoreReport()
    tmp = out.with_name(out.name + ".part")
    with (
        source.open(encoding="utf-8", errors="replace") as fh,
        tmp.open("w", encoding="utf-8") as sink,
        tqdm(unit=" records", disable=not progress) as bar,
    ):
        for chunk in _chunks(_records(fh, text_field, report), chunk_size):
            predictions = predictor.predict([r[text_field] for r in chunk])
            for record, p in zip(chunk, predictions, strict=True):
                record["claim_type"] = p.label.value
                record["scores"] = p.scores
                sink.write(json.dumps(record, ensure_ascii=False) + "\n")
            report.scored += len(chunk)
            bar.update(len(chunk))
    tmp.replace(out)
    return report
