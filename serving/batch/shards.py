"""Shards and the work directory: what makes a killed scoring job resume exactly.

The article stream is cut into shards of N articles (input errors ride with the
shard they were met in). Each scored shard is one file, written to a temporary
name, fsynced and renamed, so a shard file exists whole or not at all, whatever
kills the process. `--resume` re-reads the inputs, skips every shard whose file
exists and scores the rest; since shards are cut the same way each time and
scored independently, the rows come out the same as an uninterrupted run's.
`job.json` records what the shards were made from, and a resume with other
inputs, options or model is refused.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..files import atomic_write
from .readers import Article, InputError

__all__ = [
    "JobMismatchError",
    "Shard",
    "ShardResult",
    "WorkDir",
    "cut_shards",
]

JOB = "job.json"
_PREFIX, _SUFFIX = "shard-", ".jsonl"


class JobMismatchError(RuntimeError):
    """The work directory belongs to another job; the message says how to proceed."""


@dataclass(slots=True)
class Shard:
    """A run of consecutive articles, with the input errors met while reading them."""

    index: int
    articles: list[Article] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    bytes_read: int = 0


@dataclass(slots=True)
class ShardResult:
    """A scored shard: output rows as JSONL, plus what the summary and report need."""

    index: int
    rows: bytes
    n_rows: int
    articles: int
    counts: dict[str, dict[str, int]]
    errors: list[dict[str, Any]]
    #: [doc_id, label, source as written] of each row with a source, for `--sources`
    sources: list[list[str]] = field(default_factory=list)

    def meta(self) -> dict[str, Any]:
        return {
            "shard": self.index,
            "rows": self.n_rows,
            "articles": self.articles,
            "counts": self.counts,
            "errors": self.errors,
            "sources": self.sources,
        }


def cut_shards(
    items: Iterable[Article | InputError], size: int, position: Callable[[], int]
) -> Iterator[Shard]:
    """Shards of `size` articles; `position()` is the bytes read so far, for progress."""
    if size < 1:
        raise ValueError(f"shard size must be at least 1, got {size}")
    shard, start = Shard(0), position()
    for item in items:
        if isinstance(item, InputError):
            shard.errors.append(item)
            continue
        shard.articles.append(item)
        if len(shard.articles) == size:
            shard.bytes_read, start = position() - start, position()
            yield shard
            shard = Shard(shard.index + 1)
    if shard.articles or shard.errors or shard.index == 0:
        shard.bytes_read = position() - start
        yield shard


class WorkDir:
    """The shard files of one job, next to its output."""

    def __init__(self, path: Path, job: dict[str, Any], resume: bool) -> None:
        self.path = path
        job_file = path / JOB
        if job_file.is_file():
            previous = json.loads(job_file.read_text())
            if not resume:
                raise JobMismatchError(
                    f"{path} holds an earlier run of this output: pass --resume to finish it, "
                    "or delete the directory to start again"
                )
            if previous != job:
                changed = sorted(
                    k for k in job.keys() | previous.keys() if job.get(k) != previous.get(k)
                )
                raise JobMismatchError(
                    f"{path} was made by another job (different {', '.join(changed)}): "
                    "resume with the same inputs, options and model, or delete the directory"
                )
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob(".*.tmp"):  # a temp file is a shard that was being written
            stale.unlink()
        if not job_file.is_file():
            atomic_write(job_file, [json.dumps(job, indent=1).encode()])

    def shard_path(self, index: int) -> Path:
        return self.path / f"{_PREFIX}{index:08d}{_SUFFIX}"

    def finished(self) -> set[int]:
        """Indices of the shards already written."""
        return {
            int(p.name[len(_PREFIX) : -len(_SUFFIX)])
            for p in self.path.glob(f"{_PREFIX}*{_SUFFIX}")
        }

    def write(self, result: ShardResult) -> None:
        header = json.dumps(result.meta(), ensure_ascii=False).encode() + b"\n"
        atomic_write(self.shard_path(result.index), [header, result.rows])

    def meta(self, index: int) -> dict[str, Any]:
        with self.shard_path(index).open("rb") as fh:
            meta: dict[str, Any] = json.loads(fh.readline())
        return meta

    def open_rows(self, index: int) -> IO[bytes]:
        """The shard's rows (JSONL), positioned after its header line."""
        fh = self.shard_path(index).open("rb")
        fh.readline()
        return fh

    def remove(self) -> None:
        shutil.rmtree(self.path)
