"""Batch scoring with the fake predictor: formats in and out, doc ids, offsets, errors report."""

import csv
import gzip
import io
import json
from pathlib import Path

import pytest

from claimtype.batch import ScoreOptions, score
from claimtype.batch.engines import InlineEngine
from claimtype.cli import main
from claimtype.labels import LABELS
from tests.fakes import FakePredictor

ARTICLE_A = "Storm hits coast\nOfficials said 40 people died. The mayor denied the report."
ARTICLE_B = 'The firm offered to pay. "It is fine," she said.'
ARTICLE_C = "Rain fell in Lima. The union said the port would close."


def _score(inputs: list[Path], out: Path, **options) -> tuple[list[dict], object]:  # type: ignore[no-untyped-def]
    report = score(inputs, out, InlineEngine(FakePredictor()), ScoreOptions(**options))
    if out.suffix != ".jsonl":
        return [], report
    return [json.loads(line) for line in out.read_text().splitlines()], report


def test_no_split_keeps_fields_and_order_and_reports_bad_lines(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": 1, "text": "The ministry denied the report.", "src": "x"}),
        "{not json",
        json.dumps({"id": 2, "body": "no text field"}),
        json.dumps({"id": 3, "text": "   "}),
        json.dumps({"id": 4, "text": "Rain fell in Lima."}),
        json.dumps({"id": 5, "text": "The firm offered to pay."}),
    ]
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    predictor = FakePredictor()
    options = ScoreOptions(split=False, shard_size=2)
    report = score([source], out, InlineEngine(predictor), options, {"predictor": predictor.name})
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [1, 4, 5]
    assert [r["claim_type"] for r in rows] == ["denial", "fact", "offer"]
    assert rows[0]["src"] == "x" and set(rows[0]["scores"]) == {"fact", "claim", "denial", "offer"}
    assert report.rows == 3 and report.partial
    assert [e.line for e in report.errors] == [2, 3, 4]
    assert "--text-field" in report.errors[1].reason and "'body'" in report.errors[1].reason
    assert not list(tmp_path.glob("*.tmp")) and not (tmp_path / "out.jsonl.work").exists()


def _archive(root: Path) -> dict[str, str]:
    """The same three articles in every input format; returns doc_id -> article."""
    pa = pytest.importorskip("pyarrow", reason="the parquet extra is not installed")
    import pyarrow.parquet as pq

    (root / "txt" / "sub").mkdir(parents=True)
    (root / "txt" / "a.txt").write_text(ARTICLE_A)
    (root / "txt" / "sub" / "b.md").write_text(ARTICLE_B)
    (root / "txt" / "c.txt.gz").write_bytes(gzip.compress(ARTICLE_C.encode()))
    (root / "txt" / ".hidden.txt").write_text("Never read.")
    (root / "txt" / "notes.pdf").write_text("Never read either.")
    records = [{"id": "r1", "text": ARTICLE_A}, {"text": ARTICLE_B}, {"id": 7, "text": ARTICLE_C}]
    jsonl = "".join(json.dumps(r) + "\n" for r in records)
    (root / "recs.jsonl").write_text(jsonl)
    (root / "recs.ndjson.gz").write_bytes(gzip.compress(jsonl.encode()))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["id", "text"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    (root / "recs.csv").write_text(buf.getvalue())
    (root / "recs.csv.gz").write_bytes(gzip.compress(buf.getvalue().encode()))
    typed = [{**r, "id": str(r["id"])} if "id" in r else r for r in records]  # one type a column
    pq.write_table(pa.Table.from_pylist(typed), root / "recs.parquet")
    return {
        f"{root}/txt/a.txt": ARTICLE_A,
        f"{root}/txt/c.txt.gz": ARTICLE_C,
        f"{root}/txt/sub/b.md": ARTICLE_B,
        "r1": ARTICLE_A,
        "7": ARTICLE_C,
    }


@pytest.mark.parametrize(
    ("name", "second_id"),
    [
        ("recs.jsonl", "recs.jsonl#2"),
        ("recs.ndjson.gz", "recs.ndjson.gz#2"),
        ("recs.csv", "recs.csv#4"),  # the header, then record 1 over two lines
        ("recs.csv.gz", "recs.csv.gz#4"),
        ("recs.parquet", "recs.parquet#2"),  # the record number
    ],
)
def test_record_formats_give_ids_sentences_and_offsets(
    tmp_path: Path, name: str, second_id: str
) -> None:
    _archive(tmp_path)
    rows, report = _score([tmp_path / name], tmp_path / "out.jsonl")
    assert not report.partial and report.articles == 3
    docs = list(dict.fromkeys(r["doc_id"] for r in rows))
    assert docs == ["r1", f"{tmp_path}/{second_id}", "7"]
    texts = {"r1": ARTICLE_A, docs[1]: ARTICLE_B, "7": ARTICLE_C}
    for r in rows:
        assert texts[r["doc_id"]][r["start"] : r["end"]] == r["text"]
    assert [r["text"] for r in rows if r["doc_id"] == "r1"] == [
        "Storm hits coast",
        "Officials said 40 people died.",
        "The mayor denied the report.",
    ]
    assert [r["sentence_index"] for r in rows if r["doc_id"] == "7"] == [0, 1]
    assert [r["claim_type"] for r in rows if r["doc_id"] == "r1"] == ["fact", "claim", "denial"]


def test_directories_are_walked_sorted_and_skip_hidden_and_unknown_files(tmp_path: Path) -> None:
    _archive(tmp_path)
    rows, report = _score([tmp_path / "txt"], tmp_path / "out.jsonl")
    docs = list(dict.fromkeys(r["doc_id"] for r in rows))
    root = tmp_path / "txt"
    assert docs == [f"{root}/a.txt", f"{root}/c.txt.gz", f"{root}/sub/b.md"]
    assert not report.partial


def test_output_formats_hold_the_same_rows(tmp_path: Path) -> None:
    _archive(tmp_path)
    pq = pytest.importorskip("pyarrow.parquet", reason="the parquet extra is not installed")

    inputs = [tmp_path / "recs.jsonl", tmp_path / "txt"]
    rows, _ = _score(inputs, tmp_path / "out.jsonl", summary=tmp_path / "summary.csv")
    _score(inputs, tmp_path / "out.csv")
    _score(inputs, tmp_path / "out.parquet")
    with (tmp_path / "out.csv").open(newline="") as fh:
        from_csv = list(csv.DictReader(fh))
    assert list(from_csv[0]) == [
        "doc_id", "sentence_index", "start", "end", "text", "claim_type", "truncated",
        *(f"score_{k}" for k in LABELS),
        "source", "source_start", "source_end", "cue", "cue_start", "cue_end",
    ]  # fmt: skip
    from_parquet = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert len(rows) == len(from_csv) == len(from_parquet) == 14
    for j, c, p in zip(rows, from_csv, from_parquet, strict=True):
        assert j == p
        assert (c["doc_id"], int(c["start"]), c["text"]) == (j["doc_id"], j["start"], j["text"])
        assert {k: float(c[f"score_{k}"]) for k in LABELS} == j["scores"]
        for kind in ("source", "cue"):
            span = j["evidence"][kind]
            cells = [c[kind], c[f"{kind}_start"], c[f"{kind}_end"]]
            assert cells == (["", "", ""] if span is None else [str(v) for v in span.values()])
            assert span is None or j["text"][span["start"] : span["end"]] == span["text"]
    denied = next(r for r in rows if r["text"] == "The mayor denied the report.")
    assert denied["evidence"]["source"]["text"] == "The mayor"  # the fake's evidence, passed on
    with (tmp_path / "summary.csv").open(newline="") as fh:
        summary = list(csv.DictReader(fh))
    assert summary[0] == {
        "doc_id": "r1", "sentences": "3", "fact": "1", "claim": "1", "denial": "1", "offer": "0",
    }  # fmt: skip
    assert len(summary) == 6


def test_no_split_keeps_input_fields_in_every_format(tmp_path: Path) -> None:
    _archive(tmp_path)
    pq = pytest.importorskip("pyarrow.parquet", reason="the parquet extra is not installed")

    rows, _ = _score([tmp_path / "recs.csv"], tmp_path / "out.jsonl", split=False)
    assert [r.get("id") for r in rows] == ["r1", "", "7"]  # CSV cells are strings
    assert rows[0]["text"] == ARTICLE_A and set(rows[0]["scores"]) == set(LABELS)
    _score([tmp_path / "recs.jsonl", tmp_path / "txt" / "a.txt"], tmp_path / "o.csv", split=False)
    with (tmp_path / "o.csv").open(newline="") as fh:
        table = list(csv.DictReader(fh))
    assert list(table[0])[:4] == ["id", "text", "doc_id", "claim_type"]
    assert [t["id"] for t in table] == ["r1", "", "7", ""]
    assert table[3]["doc_id"] == f"{tmp_path}/txt/a.txt"
    _score([tmp_path / "recs.parquet"], tmp_path / "o.parquet", split=False)
    assert [r["id"] for r in pq.read_table(tmp_path / "o.parquet").to_pylist()] == ["r1", None, "7"]


def test_problems_go_to_the_errors_report_and_the_rest_is_scored(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    good = json.dumps({"id": "ok", "text": "Rain fell in Lima."})
    (tmp_path / "a.jsonl").write_bytes(
        b"\n".join(
            [
                good.encode(),
                b"{broken",
                b'{"id": "latin", "text": "Caf\xe9 owners said no."}',
                json.dumps({"id": "empty", "text": " \n "}).encode(),
                json.dumps(["not", "an", "object"]).encode(),
            ]
        )
        + b"\n"
    )
    (tmp_path / "bad.txt").write_bytes(b"The mayor said \xff\xfe it was fine.")
    (tmp_path / "empty.md").write_text("   \n\n ")
    (tmp_path / "truncated.jsonl.gz").write_bytes(gzip.compress(((good + "\n") * 50).encode())[:60])
    (tmp_path / "wide.csv").write_bytes(
        b"id,text\nw1,The union said no.\nw2,x,extra\nw3,\xe9t\xe9.\n"
    )
    (tmp_path / "notes.pdf").write_text("unsupported")
    out = tmp_path / "out" / "scores.jsonl"
    out.parent.mkdir()
    inputs = [str(p) for p in sorted(tmp_path.iterdir()) if p.is_file()]
    code = main(["score", *inputs, "--out", str(out), "--model", str(tiny_model_dir), "--quiet"])
    assert code == 2
    report = [json.loads(line) for line in (out.parent / "scores.jsonl.errors.jsonl").open()]
    by_file = {(Path(e["file"]).name, e.get("line")): e["reason"] for e in report}
    assert by_file[("a.jsonl", 2)].startswith("not JSON")
    assert "invalid UTF-8" in by_file[("a.jsonl", 3)]
    assert by_file[("a.jsonl", 4)] == "'text' is empty"
    assert by_file[("a.jsonl", 5)] == "not an object"
    assert "invalid UTF-8" in by_file[("bad.txt", None)]
    assert by_file[("empty.md", None)] == "empty article"
    assert by_file[("wide.csv", 3)] == "3 fields, the header has 2"
    assert "invalid UTF-8" in by_file[("wide.csv", 4)]
    assert by_file[("notes.pdf", None)].startswith("unsupported format")
    assert any(k[0] == "truncated.jsonl.gz" and "unreadable" in v for k, v in by_file.items())
    rows = [json.loads(line) for line in out.open()]
    docs = set(r["doc_id"] for r in rows)
    assert {"ok", "latin", f"{tmp_path}/bad.txt", "w1", "w3"} <= docs
    assert "\ufffd" in next(r["text"] for r in rows if r["doc_id"] == "latin")


def test_a_clean_run_exits_0_and_removes_a_stale_errors_report(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE_A)
    out = tmp_path / "o.jsonl"
    stale = tmp_path / "o.jsonl.errors.jsonl"
    stale.write_text('{"file": "old"}\n')
    args = ["score", str(tmp_path / "a.txt"), "--out", str(out), "--model", str(tiny_model_dir)]
    assert main([*args, "--quiet", "--workers", "1"]) == 0
    assert not stale.exists() and len(out.read_text().splitlines()) == 3


def test_bad_arguments_are_refused_before_scoring(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE_A)
    with pytest.raises(ValueError, match="output must end in"):
        _score([tmp_path / "a.txt"], tmp_path / "out.xlsx")
    with pytest.raises(FileNotFoundError):
        _score([tmp_path / "missing"], tmp_path / "out.jsonl")


@pytest.mark.parametrize("split", [True, False])
def test_rows_carry_the_truncated_flag(tmp_path: Path, split: bool) -> None:
    long = "The mayor said " + "very " * 60 + "much."
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"id": "a", "text": long}) + "\n" + json.dumps({"id": "b", "text": "No."}) + "\n"
    )
    predictor = FakePredictor(truncate_over=100)
    out = tmp_path / "out.jsonl"
    score([source], out, InlineEngine(predictor), ScoreOptions(split=split))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["truncated"] for r in rows] == [True, False]


def test_progress_off_a_terminal_is_plain_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _archive(tmp_path)
    _score([tmp_path / "recs.jsonl"], tmp_path / "out.jsonl", progress=True)
    assert "\r" not in capsys.readouterr().err  # a captured stderr is not a terminal
