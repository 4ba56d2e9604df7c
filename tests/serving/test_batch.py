import json
from pathlib import Path

from serving.batch import score_jsonl
from tests.fakes import FakePredictor


def test_score_keeps_fields_and_order_and_reports_bad_lines(tmp_path: Path) -> None:
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
    report = score_jsonl(source, out, FakePredictor(), chunk_size=2)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [1, 4, 5]
    assert [r["claim_type"] for r in rows] == ["denial", "fact", "offer"]
    assert rows[0]["src"] == "x" and set(rows[0]["scores"]) == {"fact", "claim", "denial", "offer"}
    assert report.scored == 3 and report.partial
    assert [e.split(":")[0] for e in report.errors] == ["line 2", "line 3", "line 4"]
    assert not (tmp_path / "out.jsonl.part").exists()
