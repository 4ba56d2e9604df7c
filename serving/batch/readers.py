"""Archive readers: files and directories -> one ordered stream of articles and input errors.

Batch scoring must lose nothing and resume exactly, so the stream is fully
determined by the inputs: directories are walked in sorted order, and every
problem (an unreadable file, a malformed line, bytes that are not UTF-8, an
empty article) becomes an `InputError` at its place in the stream instead of an
exception. Formats: .txt/.md (one article a file), .jsonl/.ndjson, .csv and
.parquet, each optionally gzipped (.gz).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import sys
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from ..extras import install_hint

__all__ = [
    "FORMATS",
    "PARQUET_EXTRA",
    "ArchiveReader",
    "Article",
    "InputError",
    "ReadOptions",
    "discover",
    "format_of",
]

FORMATS = {
    ".txt": "text",
    ".md": "text",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
}
PARQUET_EXTRA = f"Parquet needs pyarrow: {install_hint('parquet')}"
_SURROGATE = re.compile(r"[\ud800-\udfff]")
#: gzip, zlib and the csv module raise these on damaged input
_UNREADABLE = (OSError, EOFError, zlib.error, csv.Error)


def _no_text(field: str, record: dict[str, Any]) -> str:
    """Why a record has no text, naming the fields it does have and the flag that picks one."""
    strings = [k for k, v in record.items() if isinstance(v, str)][:8]
    if field in record:
        return f"field {field!r} is not a string"
    found = f"its string fields are {', '.join(map(repr, strings))}" if strings else "it has none"
    return f"no field {field!r} ({found}): name the text field with --text-field"


@dataclass(frozen=True, slots=True)
class Article:
    """One article to score; `record` is the input record, kept for one-in one-out output."""

    doc_id: str
    text: str
    record: dict[str, Any]


@dataclass(frozen=True, slots=True)
class InputError:
    """Something in the input that was not scored, and where it is."""

    file: str
    reason: str
    line: int | None = None
    record: int | None = None

    def to_dict(self) -> dict[str, Any]:
        where = {"line": self.line} if self.line is not None else {}
        if self.record is not None:
            where["record"] = self.record
        return {"file": self.file, **where, "reason": self.reason}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> InputError:
        return cls(d["file"], d["reason"], d.get("line"), d.get("record"))


@dataclass(frozen=True, slots=True)
class ReadOptions:
    text_field: str = "text"
    id_field: str | None = "id"


def format_of(path: Path) -> str | None:
    """The reader for `path` by its extension (a trailing .gz is looked through)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return FORMATS.get(suffixes[-1]) if suffixes else None


def discover(inputs: Sequence[Path], exclude: Iterable[Path] = ()) -> list[Path]:
    """Input files in a fixed order: arguments as given, directories walked sorted.

    Inside directories, files of unknown formats and hidden files are passed over
    (and so are `exclude`: the job's own output and work directory). A file named
    explicitly is always kept, so an unsupported one shows up in the errors report.
    """
    skip = {p.resolve() for p in exclude}
    files: list[Path] = []
    for path in inputs:
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or directory")
        if not path.is_dir():
            files.append(path)
            continue
        for child in sorted(path.rglob("*"), key=lambda p: p.as_posix()):
            relative = child.relative_to(path).parts
            if any(part.startswith(".") for part in relative) or not child.is_file():
                continue
            resolved = child.resolve()
            if resolved in skip or any(parent in skip for parent in resolved.parents):
                continue
            if format_of(child) is not None:
                files.append(child)
    return files


def _decode(data: bytes) -> tuple[str, str | None]:
    """UTF-8 text and, when bytes had to be replaced, why."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        reason = f"invalid UTF-8 at byte {exc.start}; undecodable bytes replaced with U+FFFD"
        return data.decode("utf-8", errors="replace"), reason


def _clean(text: str) -> tuple[str, bool]:
    """Replace lone surrogates (JSON escapes, undecodable CSV bytes); say if there were any."""
    cleaned = _SURROGATE.sub("\ufffd", text)
    return cleaned, cleaned != text


class _Counted:
    """A binary file whose position in the compressed bytes is known, for progress."""

    def __init__(self, path: Path) -> None:
        self.raw = path.open("rb")
        self.stream: IO[bytes] = (
            cast(IO[bytes], gzip.GzipFile(fileobj=self.raw))
            if path.suffix.lower() == ".gz"
            else self.raw
        )

    def position(self) -> int:
        return self.raw.tell()

    def close(self) -> None:
        self.stream.close()
        self.raw.close()


class ArchiveReader:
    """Iterate articles and input errors of `files`, in order.

    `bytes_read` says how far into the inputs (in on-disk bytes) the stream is,
    which lets the progress bar project a total before the end is known.
    """

    def __init__(self, files: Sequence[Path], options: ReadOptions) -> None:
        self.files = list(files)
        self.options = options
        self.total_bytes = sum(_size(f) for f in self.files)
        self._done_bytes = 0
        self._current: _Counted | None = None

    @property
    def bytes_read(self) -> int:
        current = self._current.position() if self._current is not None else 0
        return self._done_bytes + current

    def __iter__(self) -> Iterator[Article | InputError]:
        for path in self.files:
            kind = format_of(path)
            if kind is None:
                yield InputError(str(path), f"unsupported format {''.join(path.suffixes)!r}")
                continue
            try:
                self._current = _Counted(path)
            except OSError as exc:
                yield InputError(str(path), f"unreadable: {exc.strerror or exc}")
                continue
            try:
                yield from getattr(self, f"_{kind}")(path, self._current.stream)
            finally:
                self._current.close()
                self._current = None
                self._done_bytes += _size(path)

    def _record(self, path: Path, where: str, index: int, value: Any) -> Article | InputError:
        """An article from one record, or why it cannot be one."""
        field = self.options.text_field
        loc = {"record": index} if where == "record" else {"line": index}
        if not isinstance(value, dict):
            return InputError(str(path), "not an object", **loc)
        text = value.get(field)
        if not isinstance(text, str):
            return InputError(str(path), _no_text(field, value), **loc)
        if not text.strip():
            return InputError(str(path), f"{field!r} is empty", **loc)
        ident = value.get(self.options.id_field) if self.options.id_field else None
        doc_id = f"{path}#{index}" if ident is None or ident == "" else str(ident)
        return Article(doc_id, text, value)

    def _text(self, path: Path, stream: IO[bytes]) -> Iterator[Article | InputError]:
        try:
            data = stream.read()
        except _UNREADABLE as exc:
            yield InputError(str(path), f"unreadable: {exc}")
            return
        text, problem = _decode(data.removeprefix(b"\xef\xbb\xbf"))
        if problem:
            yield InputError(str(path), problem)
        if not text.strip():
            yield InputError(str(path), "empty article")
            return
        yield Article(str(path), text, {"doc_id": str(path), self.options.text_field: text})

    def _jsonl(self, path: Path, stream: IO[bytes]) -> Iterator[Article | InputError]:
        lineno = 0
        try:
            for lineno, raw in enumerate(stream, start=1):
                if not raw.strip():
                    continue
                line, problem = _decode(raw)
                if problem:
                    yield InputError(str(path), problem, line=lineno)
                try:
                    value = json.loads(line)
                except ValueError as exc:
                    yield InputError(str(path), f"not JSON ({exc})", line=lineno)
                    continue
                item = self._record(path, "line", lineno, value)
                if isinstance(item, Article):
                    text, surrogates = _clean(item.text)
                    if surrogates:
                        item = Article(
                            item.doc_id, text, {**item.record, self.options.text_field: text}
                        )
                yield item
        except _UNREADABLE as exc:
            yield InputError(str(path), f"unreadable after line {lineno}: {exc}")

    def _csv(self, path: Path, stream: IO[bytes]) -> Iterator[Article | InputError]:
        csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
        reader = csv.reader(text)
        line = 0
        try:
            header = next(reader, None)
            if header is None:
                return
            if self.options.text_field not in header:
                yield InputError(str(path), f"no column {self.options.text_field!r}", line=1)
                return
            while True:
                line = reader.line_num + 1
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield InputError(str(path), f"malformed CSV ({exc})", line=line)
                    if reader.line_num < line:
                        return
                    continue
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) > len(header):
                    reason = f"{len(row)} fields, the header has {len(header)}"
                    yield InputError(str(path), reason, line=line)
                    continue
                cells = [_clean(cell) for cell in row]
                if any(bad for _, bad in cells):
                    reason = "invalid UTF-8; undecodable bytes replaced with U+FFFD"
                    yield InputError(str(path), reason, line=line)
                values = [c for c, _ in cells] + [""] * (len(header) - len(row))
                yield self._record(path, "line", line, dict(zip(header, values, strict=True)))
        except _UNREADABLE as exc:
            yield InputError(str(path), f"unreadable after line {line}: {exc}")
        finally:
            text.detach()

    def _parquet(self, path: Path, stream: IO[bytes]) -> Iterator[Article | InputError]:
        try:
            import pyarrow.parquet as pq
        except ImportError:
            yield InputError(str(path), PARQUET_EXTRA)
            return
        index = 0
        try:
            source = io.BytesIO(stream.read()) if path.suffix.lower() == ".gz" else path
            for batch in pq.ParquetFile(source).iter_batches(batch_size=1024):
                for value in batch.to_pylist():
                    index += 1
                    yield self._record(path, "record", index, value)
        except Exception as exc:  # pyarrow raises its own error types for damaged files
            yield InputError(str(path), f"unreadable after record {index}: {exc}")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
