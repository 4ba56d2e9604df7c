"""Users' corrections, kept in an embedded SQLite database until they become training data.

SQLite needs no server and is in the standard library. Each call opens its own
connection (connections are cheap and then never shared between threads); WAL
journaling and a busy timeout let concurrent requests, and several server
processes, write to one file without "database is locked" errors. The database
and its table are created on first use, so a server that never receives
feedback never creates a file.
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

from .files import atomic_file
from .preprocess import normalize

__all__ = ["FEEDBACK_DOMAIN", "FeedbackRecord", "FeedbackStore", "export_feedback"]

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
    model TEXT
)
"""
_INIT_LOCK = threading.Lock()
_INITIALISED: set[Path] = set()
_COLUMNS = ("id", "created", "text", "label", "note", "predicted", "model")


@dataclass(frozen=True)
class FeedbackRecord:
    id: int
    created: str
    text: str
    label: str
    note: str | None = None
    predicted: str | None = None
    model: str | None = None


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

    def add(
        self,
        text: str,
        label: str,
        note: str | None = None,
        predicted: str | None = None,
        model: str | None = None,
    ) -> FeedbackRecord:
        created = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        with self._connect() as conn:
            cursor = conn.execute(
                "INSERT INTO feedback (created, text, label, note, predicted, model) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (created, text, label, note, predicted, model),
            )
        assert cursor.lastrowid is not None
        return FeedbackRecord(cursor.lastrowid, created, text, label, note, predicted, model)

    def records(self) -> list[FeedbackRecord]:
        """Every correction, oldest first; none if the database was never created."""
        if not self.path.is_file():
            return []
        with self._connect() as conn:
            rows = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM feedback ORDER BY id")
            return [FeedbackRecord(*row) for row in rows]


def _text_key(text: str) -> str:
    return normalize(text).casefold()


def export_feedback(store: FeedbackStore, out: Path) -> tuple[int, int]:
    """Write the corrections as labelled JSONL for `claimtype data add`.

    When the same sentence was corrected more than once the latest correction
    wins. The file is written beside `out` and renamed over it. Returns
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
            fh.write(json.dumps(row, ensure_ascii=False).encode() + b"\n")
    return len(records), len(latest)
