"""`claimtype data add`: validation, de-duplication and no dev/challenge leaks into train."""

import json
from pathlib import Path

import pytest

from claimtype.cli import main
from claimtype.training.add_data import add_data
from claimtype.training.data import read_jsonl, validate_splits

TRAIN = [
    {"text": "The union said the port in Lagos would close.", "label": "claim", "domain": "t"},
    {"text": "The mayor opened a new hospital in Lima on Monday.", "label": "fact", "domain": "t"},
]
DEV = [
    {
        "text": "The ministry denied reports that the bridge in Oslo had closed.",
        "label": "denial",
        "domain": "t",
        "story": "dev-story",
    },
]
CHALLENGE = [
    {
        "text": "The bank offered to rebuild the stadium in Riga for the city.",
        "label": "offer",
        "domain": "t",
    },
]


def _jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


@pytest.fixture()
def corpus(tmp_path: Path) -> dict[str, Path]:
    return {
        "train": _jsonl(tmp_path / "train.jsonl", TRAIN),
        "dev": _jsonl(tmp_path / "dev.jsonl", DEV),
        "challenge": _jsonl(tmp_path / "challenge.jsonl", CHALLENGE),
    }


def _add(corpus: dict[str, Path], new: Path, **kw):  # type: ignore[no-untyped-def]
    return add_data(new, corpus["train"], [corpus["dev"], corpus["challenge"]], **kw)


NEW = [
    # accepted
    {"text": "The council proposed a ceasefire around the mine in Quito.", "label": "offer"},
    {
        "text": "No one was hurt when the factory in Perth caught fire.",
        "label": "fact",
        "domain": "accidents",
    },
    # held-out: a dev sentence up to case and punctuation, a near copy, a challenge one, a story
    {"text": "the ministry DENIED reports that the bridge in Oslo had closed", "label": "denial"},
    {
        "text": "The ministry denied reports that the bridge in Oslo had closed on Friday.",
        "label": "denial",
    },
    {"text": "The bank offered to rebuild the stadium in Riga for the city.", "label": "offer"},
    {
        "text": "The army has not confirmed reports of the strike.",
        "label": "denial",
        "story": "dev-story",
    },
    # train: the same sentence, a near copy, the same sentence with another label
    {"text": "The union said the port in Lagos would close.", "label": "claim"},
    {"text": "The union said the port in Lagos would close soon.", "label": "claim"},
    {"text": "The mayor opened a new hospital in Lima on Monday!", "label": "claim"},
    # this file: a repeat and a near repeat of the first accepted row
    {"text": "The council proposed a ceasefire around the mine in Quito.", "label": "offer"},
    {"text": "The council proposed a ceasefire around the mine in Quito today.", "label": "offer"},
    # invalid
    {"text": "The school said it would reopen.", "label": "rumour"},
    {"text": "   ", "label": "fact"},
    {"text": "The plant closed. Workers were sent home.", "label": "fact"},
    {"label": "fact"},
    "not json at all",
    "[1, 2]",
]


def test_accepts_new_rows_and_refuses_each_problem_with_its_reason(
    corpus: dict[str, Path], tmp_path: Path
) -> None:
    report = _add(corpus, _jsonl(tmp_path / "new.jsonl", NEW))
    assert report.read == len(NEW) and report.written
    assert [r["text"] for r in report.accepted] == [NEW[0]["text"], NEW[1]["text"]]
    assert [r["domain"] for r in report.accepted] == ["added", "accidents"]
    kinds = {r.line: r.kind for r in report.refused}
    assert kinds == {
        3: "held-out", 4: "held-out", 5: "held-out", 6: "held-out",
        7: "duplicate", 8: "duplicate", 9: "label conflict",
        10: "duplicate", 11: "duplicate",
        12: "invalid", 13: "invalid", 14: "invalid", 15: "invalid", 16: "invalid", 17: "invalid",
    }  # fmt: skip
    reasons = {r.line: r.reason for r in report.refused}
    assert "dev.jsonl:1" in reasons[3] and "near duplicate" in reasons[4]
    assert "challenge.jsonl:1" in reasons[5] and "dev-story" in reasons[6]
    assert "train.jsonl:2" in reasons[9] and "'fact'" in reasons[9]
    assert "line 1" in reasons[10] and "line 1" in reasons[11]
    assert "unknown label 'rumour'" in reasons[12] and "2 sentences" in reasons[14]
    assert "not JSON" in reasons[16]

    rows = read_jsonl(corpus["train"])
    assert rows[: len(TRAIN)] == TRAIN and rows[len(TRAIN) :] == report.accepted
    splits = {k: read_jsonl(v) for k, v in corpus.items()}
    assert validate_splits(splits) == []  # no duplicate, no leak, no shared story


def test_dry_run_changes_nothing(corpus: dict[str, Path], tmp_path: Path) -> None:
    before = corpus["train"].read_bytes()
    report = _add(corpus, _jsonl(tmp_path / "new.jsonl", NEW[:3]), dry_run=True)
    assert len(report.accepted) == 2 and not report.written
    assert corpus["train"].read_bytes() == before


def test_csv_with_header_bom_and_capitalised_labels(
    corpus: dict[str, Path], tmp_path: Path
) -> None:
    new = tmp_path / "new.csv"
    new.write_text(
        "\ufefftext,label,domain\n"
        '"The firm said, in a statement, that it would appeal.",Claim,business\n'
        "The court rejected the appeal in March.,FACT,\n"
        "The union offered to end the strike.,offer,labour,surplus\n",
        encoding="utf-8",
    )
    report = _add(corpus, new)
    assert [(r["label"], r["domain"]) for r in report.accepted] == [
        ("claim", "business"),
        ("fact", "added"),
    ]
    assert [(r.line, r.kind) for r in report.refused] == [(4, "invalid")]


def test_csv_without_label_column_is_an_error(corpus: dict[str, Path], tmp_path: Path) -> None:
    new = tmp_path / "new.csv"
    new.write_text("sentence,label\nThe bridge fell.,fact\n")
    with pytest.raises(ValueError, match="text and label"):
        _add(corpus, new)


def test_held_out_sets_must_exist(corpus: dict[str, Path], tmp_path: Path) -> None:
    new = _jsonl(tmp_path / "new.jsonl", NEW[:1])
    with pytest.raises(FileNotFoundError, match="held-out"):
        add_data(new, corpus["train"], [tmp_path / "missing.jsonl"])


def test_appends_after_a_last_line_without_newline(corpus: dict[str, Path], tmp_path: Path) -> None:
    corpus["train"].write_text(json.dumps(TRAIN[0]))
    _add(corpus, _jsonl(tmp_path / "new.jsonl", NEW[:1]))
    assert [r["text"] for r in read_jsonl(corpus["train"])] == [TRAIN[0]["text"], NEW[0]["text"]]


def test_cli_reports_and_writes_the_refused_rows(
    corpus: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = _jsonl(tmp_path / "new.jsonl", NEW[:3] + NEW[11:12])
    refused = tmp_path / "refused.jsonl"
    argv = ["data", "add", str(new), "--to", str(corpus["train"]), "--dev", str(corpus["dev"]),
            "--challenge", str(corpus["challenge"]), "--refused", str(refused)]  # fmt: skip
    assert main(argv) == 2  # an invalid row: partly done
    out = capsys.readouterr().out
    assert "accepted 2 (fact 1, claim 0, denial 0, offer 1)" in out
    assert "refused  2 (held-out 1, invalid 1)" in out and "line 3: held-out" in out
    assert f"appended 2 rows to {corpus['train']}" in out
    rows = read_jsonl(refused)
    assert [r["_line"] for r in rows] == [3, 4] and rows[1]["label"] == "rumour"
    assert main([*argv[:3], "--dry-run", *argv[3:]]) == 2  # the accepted ones are now duplicates
    assert "dry run" in capsys.readouterr().out


def test_evidence_spans_are_kept_moved_with_the_stripped_text_and_checked(
    corpus: dict[str, Path], tmp_path: Path
) -> None:
    text = "  The council proposed a ceasefire around the mine in Quito."
    rows = [
        {"text": text, "label": "offer", "evidence": {"source": [2, 13], "cue": [14, 22]}},
        {"text": "The port said it was shut.", "label": "claim", "evidence": {"cue": [0, 99]}},
    ]
    report = _add(corpus, _jsonl(tmp_path / "new.jsonl", rows))
    (kept,) = report.accepted
    assert kept["evidence"] == {"source": [0, 11], "cue": [12, 20]}
    assert kept["text"][0:11] == "The council" and kept["text"][12:20] == "proposed"
    (refused,) = report.refused
    assert refused.kind == "invalid" and "evidence" in refused.reason
