"""Users' corrections, kept in an embedded SQLite database until they become training data.

SQLite needs no server and is in the standard library. Each call opens its own
connection (connections are cheap and then never shared between threads); WAL
journaling and a busy timeout let concurrent requests, and several server
processes, write to one file without "database is locked" errors. The database
and its table are created on first use, so a server that never receives
feedback never creates a file.

A correction may carry the reader's source and cue spans. They are checked
against the sentence here, before anything is stored, and exported in the
corpus's own shape, so the corpus validator reads them as it reads the
annotators' spans.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from .evidence import EVIDENCE_KINDS, shift_spans, spans_overlap, trim_span
from .files import atomic_file
from .labels import Label
from .preprocess import normalize
from .schemas import FeedbackEvidence

__all__ = [
    "FEEDBACK_DOMAIN",
    "FeedbackRecord",
    "FeedbackStore",
    "Spans",
    "checked_evidence",
    "export_feedback",
]

#: the domain exported corrections carry, so they stay identifiable in the corpus
FEEDBACK_DOMAIN = "feedback"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    text TEXT NOT NULL,
    label TEXT NOT NULL,
    note TEXT,
    predicted TEXT,
    model TEXT,
    evidence TEXT
)
"""
#: columns added since the table was first shipped: (name, type), added to older files on open
_ADDED_COLUMNS = (("evidence", "TEXT"),)
_INIT_LOCK = threading.Lock()
_INITIALISED: set[Path] = set()
_COLUMNS = ("id", "created", "text", "label", "note", "predicted", "model", "evidence")

#: kind ("source", "cue") -> [start, end) in the text, or None: the corpus's JSONL shape
Spans = dict[str, list[int] | None]


@dataclass(frozen=True)
class FeedbackRecord:
    id: int
    created: str
    text: str
    label: str
    note: str | None = None
    predicted: str | None = None
    model: str | None = None
    #: offsets into `text`; None when the correction came without spans
    evidence: Spans | None = None


def checked_evidence(
    text: str, label: Label, evidence: FeedbackEvidence | None
) -> FeedbackEvidence | None:
    """The spans to keep for a correction of `text`, or ValueError saying what is wrong.

    An untrimmed span is trimmed, not refused: a selection made with the mouse
    usually takes the space after a word, and where a span ends is the annotation
    guide's rule (`trim_span`), which the server applies so no client has to copy
    it. Refused: a span outside the text or not start < end, one with nothing
    left after trimming, source and cue that overlap once trimmed, and any span
    on a fact. A fact sent with both spans null keeps no evidence.
    """
    if evidence is None:
        return None
    given = {kind: getattr(evidence, kind) for kind in EVIDENCE_KINDS}
    if label is Label.FACT:
        marked = [kind for kind, span in given.items() if span is not None]
        if marked:
            raise ValueError(f"a fact has no source or cue, but {' and '.join(marked)} was given")
        return None
    kept: Spans = {}
    for kind, span in given.items():
        if span is None:
            kept[kind] = None
            continue
        start, end = span
        if not 0 <= start < end <= len(text):
            raise ValueError(
                f"{kind} {span} is not [start, end) inside the text "
                f"({len(text)} characters, end exclusive)"
            )
        start, end = trim_span(text, start, end)
        if start >= end:
            raise ValueError(f"{kind} {text[span[0] : span[1]]!r} holds no word")
        kept[kind] = [start, end]
    source, cue = kept["source"], kept["cue"]
    if source and cue and spans_overlap(source, cue):
        raise ValueError(
            f"source {text[source[0] : source[1]]!r} and cue {text[cue[0] : cue[1]]!r} overlap"
        )
    return FeedbackEvidence(**kept)


class FeedbackStore:
    """Append-only store of corrections in one SQLite file."""

    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            self._initialise(conn)
            yield conn
        finally:
            conn.close()

    def _initialise(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL once per file in this process, then ensure the table.

        Switching the journal mode needs the database to itself and SQLite does not
        wait for that (no busy timeout), so first requests racing each other failed
        with "database is locked". WAL is stored in the file, so later connections
        need not switch it again.
        """
        key = self.path.resolve()
        if key not in _INITIALISED:
            with _INIT_LOCK:
                if key not in _INITIALISED:
                    conn.execute("PRAGMA journal_mode = WAL")
                    _INITIALISED.add(key)
        conn.execute(_SCHEMA)  # cheap, waits on locks, and survives the file being replaced
        _add_missing_columns(conn)

    def add(
        self,
        text: str,
        label: str,
        note: str | None = None,
        predicted: str | None = None,
        model: str | None = None,
        evidence: FeedbackEvidence | None = None,
    ) -> FeedbackRecord:
        """Keep one correction. The text is kept without surrounding white space, so
        exports and `claimtype data add` (which strips too) agree on it; the evidence
        offsets, given into `text`, move with it."""
        kept = text.strip()
        lead = len(text) - len(text.lstrip())
        spans = None if evidence is None else cast(Spans, shift_spans(evidence.model_dump(), lead))
        created = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        with self._connect() as conn:
            cursor = conn.execute(
                "INSERT INTO feedback (created, text, label, note, predicted, model, evidence) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (created, kept, label, note, predicted, model, _dumps(spans)),
            )
        assert cursor.lastrowid is not None
        return FeedbackRecord(cursor.lastrowid, created, kept, label, note, predicted, model, spans)

    def records(self) -> list[FeedbackRecord]:
        """Every correction, oldest first; none if the database was never created."""
        if not self.path.is_file():
            return []
        with self._connect() as conn:
            rows = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM feedback ORDER BY id")
            return [_record(row) for row in rows]


def _record(row: tuple[Any, ...]) -> FeedbackRecord:
    """A row of _COLUMNS as a record, its evidence parsed from the JSON it is kept as."""
    fields = dict(zip(_COLUMNS, row, strict=True))
    fields["evidence"] = json.loads(fields["evidence"] or "null")
    return FeedbackRecord(**fields)


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """Bring a database made by an older claimtype up to the current table.

    Old rows get NULL (a correction without spans). Two processes opening the same
    old file may both try; the loser's "duplicate column" means the work is done.
    """
    present = {row[1] for row in conn.execute("PRAGMA table_info(feedback)")}
    for name, kind in _ADDED_COLUMNS:
        if name in present:
            continue
        try:
            conn.execute(f"ALTER TABLE feedback ADD COLUMN {name} {kind}")
        except sqlite3.OperationalError as exc:
            if "duplicate column" not in str(exc):
                raise


def _dumps(spans: Spans | None) -> str | None:
    return None if spans is None else json.dumps(spans)


def _text_key(text: str) -> str:
    return normalize(text).casefold()


def export_feedback(store: FeedbackStore, out: Path) -> tuple[int, int]:
    """Write the corrections as labelled JSONL for `claimtype data add`.

    When the same sentence was corrected more than once the latest correction
    wins. Rows are in the corpus's shape: the text as kept, and `evidence` as
    offsets into that same text when the correction gave spans (a fact's is
    null, as in the corpus; a correction without spans has none, i.e. not
    marked). The file is written beside `out` and renamed over it. Returns
    (corrections read, rows written).
    """
    records = store.records()
    latest: dict[str, FeedbackRecord] = {}
    for record in records:
        key = _text_key(record.text)
        latest.pop(key, None)  # keep the order of the latest correction
        latest[key] = record
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(out) as fh:
        for r in latest.values():
            extra = {"note": r.note, "predicted": r.predicted, "model": r.model}
            row = {
                "text": r.text,
                "label": r.label,
                "domain": FEEDBACK_DOMAIN,
                "feedback_id": r.id,
                "created": r.created,
                **{k: v for k, v in extra.items() if v is not None},
            }
            if r.label == Label.FACT:
                row["evidence"] = None
            elif r.evidence is not None:
                row["evidence"] = r.evidence
            fh.write(json.dumps(row, ensure_ascii=False).encode() + b"\n")
    return len(records), len(latest)
