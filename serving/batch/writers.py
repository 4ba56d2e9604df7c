"""Assemble the final output from shard files: JSONL, CSV or Parquet, chosen by extension.

Shards hold rows as JSONL; the output is written from them in shard order,
atomically, so OUT is either the whole result or absent. JSONL is a byte copy.
CSV spreads `scores` into one column per label (score_fact, ...) and `evidence`
into source, source_start, source_end, cue, cue_start, cue_end. Parquet (the
`parquet` extra, pyarrow) keeps both as struct columns.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from ..evidence import EVIDENCE_KINDS
from ..files import atomic_file
from ..labels import LABELS
from ..schemas import SourceCount
from .readers import PARQUET_EXTRA
from .scoring import PREDICTION_FIELDS, SPLIT_COLUMNS
from .shards import WorkDir

__all__ = ["OUTPUT_FORMATS", "output_format", "write_output", "write_sources", "write_summary"]

OUTPUT_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
SCORE_COLUMNS = tuple(f"score_{label}" for label in LABELS)
EVIDENCE_COLUMNS = tuple(
    f"{kind}{part}" for kind in EVIDENCE_KINDS for part in ("", "_start", "_end")
)
_CHUNK = 1 << 20


def output_format(path: Path) -> str:
    """The output format for `path`, refused early (before any scoring) when unknown or missing."""
    kind = OUTPUT_FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ValueError(f"{path}: output must end in one of {', '.join(OUTPUT_FORMATS)}")
    if kind == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ValueError(PARQUET_EXTRA) from None
    return kind


def _rows(work: WorkDir, shards: int) -> Iterator[dict[str, Any]]:
    for index in range(shards):
        with work.open_rows(index) as fh:
            for line in fh:
                yield json.loads(line)


def _write_jsonl(work: WorkDir, shards: int, sink: IO[bytes]) -> None:
    for index in range(shards):
        with work.open_rows(index) as fh:
            while chunk := fh.read(_CHUNK):
                sink.write(chunk)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def _evidence_cells(evidence: dict[str, Any] | None) -> list[Any]:
    """A row's evidence as EVIDENCE_COLUMNS cells: text, start, end of each span, or blanks."""
    spans = [(evidence or {}).get(kind) for kind in EVIDENCE_KINDS]
    return [
        "" if span is None else span[part] for span in spans for part in ("text", "start", "end")
    ]


def _write_csv(work: WorkDir, shards: int, split: bool, sink: IO[bytes]) -> None:
    if split:
        columns: list[str] = [c for c in SPLIT_COLUMNS if c not in ("scores", "evidence")]
    else:  # records may differ: the header is every field seen, in first-seen order
        seen: dict[str, None] = {}
        for row in _rows(work, shards):
            seen.update(dict.fromkeys(k for k in row if k not in PREDICTION_FIELDS))
        columns = [*seen, "claim_type", "truncated"]
    text = io.TextIOWrapper(sink, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow([*columns, *SCORE_COLUMNS, *EVIDENCE_COLUMNS])
    for row in _rows(work, shards):
        scores = row.get("scores", {})
        writer.writerow(
            [_cell(row.get(c)) for c in columns]
            + [scores[k] for k in LABELS]
            + _evidence_cells(row.get("evidence"))
        )
    text.flush()
    text.detach()


def _split_schema() -> Any:
    import pyarrow as pa

    span = pa.struct([("text", pa.string()), ("start", pa.int64()), ("end", pa.int64())])
    return pa.schema(
        [
            ("doc_id", pa.string()),
            ("sentence_index", pa.int64()),
            ("start", pa.int64()),
            ("end", pa.int64()),
            ("text", pa.string()),
            ("claim_type", pa.string()),
            ("scores", pa.struct([(label, pa.float64()) for label in LABELS])),
            ("truncated", pa.bool_()),
            ("evidence", pa.struct([(kind, span) for kind in EVIDENCE_KINDS])),
        ]
    )


def _shard_table(work: WorkDir, index: int, schema: Any) -> Any:
    import pyarrow as pa

    with work.open_rows(index) as fh:
        rows = [json.loads(line) for line in fh]
    return pa.Table.from_pylist(rows, schema=schema) if schema else pa.Table.from_pylist(rows)


def _write_parquet(work: WorkDir, shards: int, split: bool, sink: IO[bytes]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if split:
        schema = _split_schema()
    else:  # one schema for all shards: unify what each shard's records look like
        found = [_shard_table(work, i, None).schema for i in range(shards)]
        schema = pa.unify_schemas(found, promote_options="permissive")
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        for index in range(shards):
            writer.write_table(_shard_table(work, index, schema))


def write_output(work: WorkDir, shards: int, out: Path, split: bool) -> None:
    """Write `out` from shards 0..shards-1, in order, whole or not at all."""
    kind = output_format(out)
    with atomic_file(out) as sink:
        if kind == "jsonl":
            _write_jsonl(work, shards, sink)
        elif kind == "csv":
            _write_csv(work, shards, split, sink)
        else:
            _write_parquet(work, shards, split, sink)


def _write_table(
    path: Path, header: Sequence[str], cells: Iterable[Sequence[Any]], lines: Iterable[str]
) -> None:
    """A small report, atomically: CSV (header, then cells) for a .csv path, else JSON
    lines. Only one of cells and lines is consumed."""
    with atomic_file(path) as sink:
        if path.suffix.lower() == ".csv":
            text = io.TextIOWrapper(sink, encoding="utf-8", newline="")
            writer = csv.writer(text)
            writer.writerow(header)
            writer.writerows(cells)
            text.flush()
            text.detach()
        else:
            sink.write("".join(line + "\n" for line in lines).encode())


def write_summary(path: Path, counts: dict[str, dict[str, int]], unit: str) -> None:
    """Per-document counts by label: CSV for a .csv path, JSONL otherwise."""
    header = ["doc_id", unit, *LABELS]
    rows = [{"doc_id": doc, unit: sum(c.values()), **c} for doc, c in counts.items()]
    cells = ([row[column] for column in header] for row in rows)
    _write_table(path, header, cells, (json.dumps(r, ensure_ascii=False) for r in rows))


def _ids(where: Sequence[str | int]) -> str:
    return " ".join(str(w) for w in where)


def write_sources(path: Path, rows: Sequence[SourceCount]) -> None:
    """Who said what across the archive: CSV for a .csv path, JSONL otherwise.

    One row per folded source: the names it was written as, its claims, denials
    and offers, and the documents they are in (CSV: ids joined by spaces).
    """
    header = ["source", "names", "claim", "denial", "offer", "documents", "doc_ids"]
    cells = (
        (r.source, " | ".join(r.names), r.claim, r.denial, r.offer, len(r.where), _ids(r.where))
        for r in rows
    )
    _write_table(path, header, cells, (r.model_dump_json() for r in rows))
