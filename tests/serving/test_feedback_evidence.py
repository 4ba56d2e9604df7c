"""Corrections with source and cue spans: checked on arrival, kept, exported in the corpus shape."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from claimtype.cli import main
from claimtype.feedback import FeedbackStore, export_feedback
from claimtype.training.data import evidence_problems
from tests.serving.test_feedback import client_for

TEXT = "The ministry denied the report."  # source 0..12, cue 13..19
SPANS = {"source": [0, 12], "cue": [13, 19]}


def post(db: Path, body: dict):  # type: ignore[no-untyped-def]
    with client_for(db) as c:
        return c.post("/v1/feedback", json=body)


def test_spans_are_kept_and_answered_as_kept(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    # a mouse selection takes the space after "ministry" and the full stop after "denied"
    body = {"text": TEXT, "label": "denial", "evidence": {"source": [0, 13], "cue": [12, 20]}}
    r = post(db, body)
    assert r.status_code == 201, r.text
    assert r.json()["evidence"] == SPANS  # trimmed as EVIDENCE.md trims: no longer overlapping
    [record] = FeedbackStore(db).records()
    assert record.evidence == SPANS
    assert [TEXT[a:b] for a, b in record.evidence.values()] == ["The ministry", "denied"]


def test_offsets_move_with_the_white_space_the_store_strips(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    sent = "\n  " + TEXT + "  "
    r = post(db, {"text": sent, "label": "denial", "evidence": {"source": [3, 15], "cue": None}})
    assert r.status_code == 201
    assert r.json()["evidence"] == {"source": [3, 15], "cue": None}  # into the text as sent
    [record] = FeedbackStore(db).records()
    assert record.text == TEXT
    assert record.evidence == {"source": [0, 12], "cue": None}


def test_a_fact_keeps_no_evidence_and_a_correction_may_have_none(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    fact = {"text": "Rain fell.", "label": "fact", "evidence": {"source": None, "cue": None}}
    assert post(db, fact).json()["evidence"] is None
    assert post(db, {"text": TEXT, "label": "denial"}).json()["evidence"] is None
    assert [r.evidence for r in FeedbackStore(db).records()] == [None, None]


@pytest.mark.parametrize(
    ("evidence", "label", "needle"),
    [
        ({"source": [0, 99], "cue": None}, "denial", "not [start, end) inside the text"),
        ({"source": [-1, 3], "cue": None}, "denial", "not [start, end) inside the text"),
        ({"source": [4, 4], "cue": None}, "denial", "not [start, end) inside the text"),
        ({"source": [12, 4], "cue": None}, "denial", "not [start, end) inside the text"),
        ({"source": [0, 19], "cue": [13, 19]}, "denial", "overlap"),
        ({"source": None, "cue": [13, 19]}, "fact", "a fact has no source or cue"),
        ({"source": [12, 13], "cue": None}, "denial", "holds no word"),  # " "
        ({"source": None, "cue": [30, 31]}, "denial", "holds no word"),  # "."
        ({"source": [0], "cue": None}, "denial", "evidence.source"),
        ({"source": [0, 3, 5], "cue": None}, "denial", "evidence.source"),
        ({"source": ["0", "3"], "cue": None}, "denial", "evidence.source"),
        ({"source": [0.0, 3.0], "cue": None}, "denial", "evidence.source"),
        ({"source": [True, 3], "cue": None}, "denial", "evidence.source"),
        ({"source": None, "speaker": [0, 3]}, "denial", "evidence.speaker"),
        ([0, 12], "denial", "evidence"),
    ],
)
def test_spans_that_cannot_be_meant_are_a_422_and_nothing_is_kept(
    tmp_path: Path, evidence: object, label: str, needle: str
) -> None:
    db = tmp_path / "feedback.sqlite3"
    r = post(db, {"text": TEXT, "label": label, "evidence": evidence})
    assert r.status_code == 422 and needle in r.json()["detail"], r.text
    assert FeedbackStore(db).records() == []


def test_export_rows_are_corpus_rows_whose_offsets_index_the_exported_text(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    # curly quotes, a double space and a code point outside the BMP before the spans: the
    # export keeps the text as the store keeps it, so none of them may shift an offset
    quoted = "“Fine,”  the 🚢 pilots’ union said on Friday."
    union = quoted.index("the 🚢")
    said = quoted.index("said")
    corrections = [
        {"text": TEXT, "label": "claim", "evidence": {"source": [0, 12], "cue": None}},
        {"text": "Rain fell.", "label": "fact"},
        {"text": "  " + quoted, "label": "claim",
         "evidence": {"source": [union + 2, said + 1], "cue": [said + 2, said + 6]}},
        {"text": "Rain  fell. ", "label": "claim"},  # the same sentence again: it wins
        {"text": TEXT + " ", "label": "denial", "evidence": SPANS},  # and so does this
    ]  # fmt: skip
    with client_for(db) as c:
        for body in corrections:
            assert c.post("/v1/feedback", json=body).status_code == 201
    out = tmp_path / "feedback.jsonl"
    assert main(["feedback", "export", "--out", str(out), "--db", str(db)]) == 0
    rows = {r["text"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert list(rows) == [quoted, "Rain  fell.", TEXT]
    for row in rows.values():
        assert evidence_problems(row) == [], row

    def marked(row: dict) -> dict[str, str | None]:
        spans = row["evidence"].items()
        return {k: None if s is None else row["text"][s[0] : s[1]] for k, s in spans}

    assert marked(rows[quoted]) == {"source": "the 🚢 pilots’ union", "cue": "said"}
    assert marked(rows[TEXT]) == {"source": "The ministry", "cue": "denied"}
    assert rows[TEXT]["label"] == "denial"
    assert "evidence" not in rows["Rain  fell."]  # a claim sent without spans: not marked


def test_a_fact_row_exports_null_evidence(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.add("Rain fell.", "fact")
    out = tmp_path / "feedback.jsonl"
    export_feedback(store, out)
    [row] = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["evidence"] is None and evidence_problems(row) == []


OLD_TABLE = """
CREATE TABLE feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created TEXT NOT NULL, text TEXT NOT NULL,
    label TEXT NOT NULL, note TEXT, predicted TEXT, model TEXT
)
"""


def test_a_database_from_before_evidence_gets_the_column_and_keeps_its_rows(
    tmp_path: Path,
) -> None:
    db = tmp_path / "feedback.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute(OLD_TABLE)
        conn.execute(
            "INSERT INTO feedback (created, text, label) VALUES (?, ?, ?)",
            ("2026-01-01T00:00:00.000+00:00", "Rain fell.", "fact"),
        )
    conn.close()
    [old] = FeedbackStore(db).records()  # reading migrates too
    assert (old.text, old.label, old.evidence) == ("Rain fell.", "fact", None)
    r = post(db, {"text": TEXT, "label": "denial", "evidence": SPANS})
    assert r.status_code == 201 and r.json()["id"] == 2
    assert [x.evidence for x in FeedbackStore(db).records()] == [None, SPANS]
    with sqlite3.connect(db) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(feedback)")]
    conn.close()
    assert columns.count("evidence") == 1
