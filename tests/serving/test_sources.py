"""Who said what: one key per party however it is written, counts per label and place."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from claimtype.batch import ScoreOptions, score
from claimtype.batch.engines import InlineEngine
from claimtype.sources import SourceTable, fold_source
from tests.fakes import FakePredictor


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("the ministry", "ministry"),
        ("The Ministry", "ministry"),
        ("Mr. Okafor", "okafor"),
        ("President Alma Reyes", "alma reyes"),
        ("the minister", "minister"),  # a title alone is the source
        ("The company\u2019s", "company"),
        ("General Motors", "general motors"),  # not a title here
        ("Harlan  Steel Co.", "harlan steel co"),
    ],
)
def test_fold_source(written: str, key: str) -> None:
    assert fold_source(written) == key


def test_the_table_counts_each_label_per_source_most_active_first() -> None:
    predictions = FakePredictor().predict(
        [
            "The ministry denied the report.",
            "The Ministry said the port would close.",
            "Rain fell in Lima.",
            "The union offered to pay.",
            "the ministry said it was safe.",
        ]
    )
    table = SourceTable()
    table.add_all(predictions, [0, 1, 2, 3, 3])
    rows = table.rows()
    assert [r.source for r in rows] == ["ministry", "union"]
    ministry = rows[0]
    assert (ministry.claim, ministry.denial, ministry.offer) == (2, 1, 0)
    assert ministry.where == [0, 1, 3]
    assert set(ministry.names) == {"The ministry", "The Ministry", "the ministry"}


def test_score_writes_the_sources_table_across_documents(tmp_path: Path) -> None:
    archive = tmp_path / "in.jsonl"
    docs = {
        "d1": "The ministry denied the report. The Ministry said the port would close.",
        "d2": "The ministry offered to pay. Rain fell in Lima.",
    }
    archive.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in docs.items()))
    out, table = tmp_path / "out.jsonl", tmp_path / "sources.csv"
    score([archive], out, InlineEngine(FakePredictor()), ScoreOptions(sources=table))
    with table.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows == [
        {
            "source": "ministry",
            "names": "The ministry | The Ministry",
            "claim": "1",
            "denial": "1",
            "offer": "1",
            "documents": "2",
            "doc_ids": "d1 d2",
        }
    ]
