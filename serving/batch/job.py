"""Batch scoring of archives: inputs -> shards -> engine -> shard files -> one output.

`score` reads files and directories of articles or records (serving.readers),
cuts them into shards (serving.shards), has an engine score them
(serving.engines, serving.ray_engine), writes each scored shard atomically into
`OUT.work/`, and finally assembles OUT in input order (serving.writers). A job
killed at any point and run again with `resume=True` skips the finished shards
and ends with exactly the rows of an uninterrupted run. Everything that could
not be scored goes to the errors report, and the report says the run was partial.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..files import atomic_write
from ..sources import SourceTable
from .engines import Engine
from .readers import ArchiveReader, InputError, ReadOptions, discover
from .shards import Shard, WorkDir, cut_shards
from .writers import output_format, write_output, write_sources, write_summary

__all__ = ["ScoreOptions", "ScoreReport", "errors_path_for", "score", "work_dir_for"]


@dataclass(frozen=True)
class ScoreOptions:
    text_field: str = "text"
    id_field: str | None = "id"
    #: False: one output row per input record (its fields plus claim_type and scores)
    split: bool = True
    shard_size: int = 100
    resume: bool = False
    keep_work: bool = False
    errors: Path | None = None
    summary: Path | None = None
    #: who said what: claims, denials and offers per folded source (.csv or .jsonl)
    sources: Path | None = None
    progress: bool = False


@dataclass
class ScoreReport:
    out: Path
    errors_path: Path
    articles: int = 0
    rows: int = 0
    shards: int = 0
    resumed: int = 0
    errors: list[InputError] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        return bool(self.errors)


def work_dir_for(out: Path) -> Path:
    return out.with_name(out.name + ".work")


def errors_path_for(out: Path) -> Path:
    return out.with_name(out.name + ".errors.jsonl")


def _job(files: Sequence[Path], options: ScoreOptions, model: dict[str, Any]) -> dict[str, Any]:
    """What the shards are made from; a resume must match it exactly."""
    stats = [
        (str(f), f.stat().st_size, f.stat().st_mtime_ns) if f.exists() else (str(f), None, None)
        for f in files
    ]
    return {
        "claimtype": __version__,
        "inputs": [list(s) for s in stats],
        "text_field": options.text_field,
        "id_field": options.id_field,
        "split": options.split,
        "shard_size": options.shard_size,
        "model": model,
    }


class _Progress:
    """Rows scored, with a total projected from the input bytes scored so far.

    On a terminal, a tqdm bar. Anywhere else (a log file, CI, a pipe) a bar's
    carriage returns turn into one long garbled line, so a plain line is printed
    instead, at most every `every` seconds.
    """

    def __init__(self, enabled: bool, total_bytes: int, unit: str, every: float = 15.0) -> None:
        from tqdm import tqdm

        self.enabled, self.unit, self.every = enabled, unit, every
        self.plain = enabled and not sys.stderr.isatty()
        self.bar = tqdm(unit=f" {unit}", disable=not enabled or self.plain, smoothing=0.1)
        self.total_bytes = total_bytes
        self.skipped_bytes = 0
        self.scored_bytes = 0
        self.last_line = time.monotonic()

    def skipped(self, shard: Shard) -> None:
        self.skipped_bytes += shard.bytes_read

    def scored(self, rows: int, bytes_read: int) -> None:
        self.scored_bytes += bytes_read
        todo = self.total_bytes - self.skipped_bytes
        if self.scored_bytes:
            self.bar.total = max(
                self.bar.n + rows, round((self.bar.n + rows) * todo / self.scored_bytes)
            )
        self.bar.update(rows)
        if self.plain and time.monotonic() - self.last_line >= self.every:
            self.last_line = time.monotonic()
            share = f", {100 * self.scored_bytes / todo:.0f}% of the input" if todo > 0 else ""
            print(f"score: {self.bar.n:,} {self.unit}{share}", file=sys.stderr, flush=True)

    def close(self) -> None:
        self.bar.total = self.bar.n
        self.bar.close()


def score(
    inputs: Sequence[Path],
    out: Path,
    engine: Engine,
    options: ScoreOptions | None = None,
    model: dict[str, Any] | None = None,
) -> ScoreReport:
    """Score `inputs` into `out`; `model` identifies the predictor for resume checks."""
    options = options or ScoreOptions()
    output_format(out)
    work_path = work_dir_for(out)
    report = ScoreReport(out=out, errors_path=options.errors or errors_path_for(out))
    written = [p for p in (options.summary, options.sources) if p]
    exclude = [out, work_path, report.errors_path, *written]
    files = discover(inputs, exclude)
    work = WorkDir(work_path, _job(files, options, model or {}), options.resume)
    for stale in out.parent.glob(f".{out.name}.*.tmp"):
        stale.unlink()
    finished = work.finished()
    reader = ArchiveReader(files, ReadOptions(options.text_field, options.id_field))
    progress = _Progress(
        options.progress, reader.total_bytes, "sentences" if options.split else "records"
    )
    bytes_of: dict[int, int] = {}

    def pending() -> Iterator[Shard]:
        for shard in cut_shards(reader, options.shard_size, lambda: reader.bytes_read):
            report.shards = shard.index + 1
            if shard.index in finished:
                report.resumed += 1
                progress.skipped(shard)
                continue
            bytes_of[shard.index] = shard.bytes_read
            yield shard

    try:
        for result in engine.run(pending(), options.split):
            work.write(result)
            progress.scored(result.n_rows, bytes_of.pop(result.index))
    finally:
        progress.close()
    _assemble(work, report, options)
    if not options.keep_work:
        work.remove()
    return report


def _assemble(work: WorkDir, report: ScoreReport, options: ScoreOptions) -> None:
    """OUT, the errors report and the summary, from the shard files in input order."""
    missing = sorted(set(range(report.shards)) - work.finished())
    if missing:
        raise RuntimeError(
            f"{work.path}: shards {missing[:10]} were not written; run again with --resume"
        )
    counts: dict[str, dict[str, int]] = {}
    sources = SourceTable()
    for index in range(report.shards):
        meta = work.meta(index)
        for doc_id, label, source in meta.get("sources", []):
            sources.count(source, label, doc_id)
        report.rows += meta["rows"]
        report.articles += meta["articles"]
        report.errors += [InputError.from_dict(e) for e in meta["errors"]]
        for doc, c in meta["counts"].items():
            merged = counts.setdefault(doc, dict.fromkeys(c, 0))
            for label, n in c.items():
                merged[label] += n
    write_output(work, report.shards, report.out, options.split)
    if report.errors:
        lines = (
            json.dumps(e.to_dict(), ensure_ascii=False).encode() + b"\n" for e in report.errors
        )
        atomic_write(report.errors_path, lines)
    else:  # an errors report from an earlier run would mislead
        report.errors_path.unlink(missing_ok=True)
    if options.summary:
        write_summary(options.summary, counts, "sentences" if options.split else "records")
    if options.sources:
        write_sources(options.sources, sources.rows())
