"""Files that exist whole or not at all, whatever kills the process mid-write.

Shard files, scoring outputs, the model registry, exported feedback and the
training data a user appends to are all replaced this way, so a crash leaves
the old file or the new one, never half of either.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["atomic_file", "atomic_write"]


@contextmanager
def atomic_file(path: Path) -> Iterator[IO[bytes]]:
    """Write `path` whole or not at all: temp file, fsync, rename, fsync the directory.

    If the block raises (or the process dies), `path` is untouched and only a
    hidden temp file `.NAME.PID.tmp` is left, which scoring runs remove.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def atomic_write(path: Path, chunks: Iterable[bytes]) -> None:
    with atomic_file(path) as fh:
        for chunk in chunks:
            fh.write(chunk)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
