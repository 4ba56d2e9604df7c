"""POST /v1/feedback stores corrections in SQLite; `feedback export` makes training rows of them."""

import concurrent.futures
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claimtype.api import create_app
from claimtype.cli import main
from claimtype.feedback import FeedbackStore, export_feedback
from claimtype.settings import Settings
from tests.fakes import FakePredictor

CORRECTION = {
    "text": "The palace declined to confirm reports of the engagement.",
    "label": "denial",
    "note": "withholding confirmation is a denial",
    "predicted": "fact",
    "model": "claimtype-minilm@0.2.0",
}


def client_for(db: Path, **settings) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(create_app(Settings(feedback_db=db, **settings), FakePredictor()))


def test_feedback_is_stored_and_the_database_created_on_first_use(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "feedback.sqlite3"
    with client_for(db) as c:
        assert not db.exists()
        r = c.post("/v1/feedback", json=CORRECTION)
        assert r.status_code == 201
        assert r.json()["id"] == 1 and r.json()["label"] == "denial"
        assert (
            c.post("/v1/feedback", json={"text": "Rain fell.", "label": "fact"}).json()["id"] == 2
        )
    records = FeedbackStore(db).records()
    assert [(x.text, x.label, x.note, x.predicted, x.model) for x in records] == [
        tuple(CORRECTION.values()),
        ("Rain fell.", "fact", None, None, None),
    ]


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({**CORRECTION, "label": "rumour"}, 422, "label"),
        ({**CORRECTION, "label": "Denial"}, 422, "label"),
        ({**CORRECTION, "predicted": "maybe"}, 422, "predicted"),
        ({"text": "Rain fell."}, 422, "label"),
        ({"label": "fact"}, 422, "text"),
        ({"text": "", "label": "fact"}, 422, "text"),
        ({"text": "  \n ", "label": "fact"}, 422, "empty"),
        ({"text": "x" * 201, "label": "fact"}, 413, "max_chars"),
        ({**CORRECTION, "note": "n" * 2001}, 422, "note"),
        ({**CORRECTION, "model": "m" * 201}, 422, "model"),
        ({**CORRECTION, "extra": 1}, 422, "extra"),
        ({"text": 5, "label": "fact"}, 422, "text"),
    ],
)
def test_invalid_feedback_is_refused_and_not_stored(
    tmp_path: Path, body: dict, status: int, needle: str
) -> None:
    db = tmp_path / "feedback.sqlite3"
    with client_for(db, max_chars=200) as c:
        r = c.post("/v1/feedback", json=body)
    assert r.status_code == status and needle in r.json()["detail"]
    assert FeedbackStore(db).records() == []


def test_feedback_needs_a_key_when_auth_is_on(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    with client_for(db, api_keys="k1") as c:
        assert c.post("/v1/feedback", json=CORRECTION).status_code == 401
        bad = {"Authorization": "Bearer nope"}
        assert c.post("/v1/feedback", json=CORRECTION, headers=bad).status_code == 401
        assert FeedbackStore(db).records() == []
        ok = {"X-API-Key": "k1"}
        assert c.post("/v1/feedback", json=CORRECTION, headers=ok).status_code == 201
    assert len(FeedbackStore(db).records()) == 1


def test_concurrent_feedback_is_all_kept(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    texts = [f"Officials said {i} bridges were closed." for i in range(40)]
    with client_for(db) as c, concurrent.futures.ThreadPoolExecutor(8) as pool:
        ids = list(
            pool.map(
                lambda t: c.post("/v1/feedback", json={"text": t, "label": "claim"}).json()["id"],
                texts,
            )
        )
    assert sorted(ids) == list(range(1, 41))
    assert sorted(r.text for r in FeedbackStore(db).records()) == sorted(texts)


def test_stores_in_several_threads_share_one_file(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"

    def add(i: int) -> int:
        return FeedbackStore(db).add(f"The port closed on day {i}.", "fact").id

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(add, range(50))) == list(range(1, 51))


def test_export_keeps_the_latest_correction_of_each_sentence(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    store.add("The mayor said the bridge would close.", "fact", note="first try")
    store.add("Rain fell on Monday.", "fact")
    store.add("The  mayor said the bridge would close. ", "claim", predicted="fact", model="m@1")
    out = tmp_path / "out" / "feedback.jsonl"
    assert export_feedback(store, out) == (3, 2)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["text"], r["label"], r["domain"]) for r in rows] == [
        ("Rain fell on Monday.", "fact", "feedback"),
        ("The  mayor said the bridge would close.", "claim", "feedback"),  # kept stripped
    ]
    assert rows[1]["predicted"] == "fact" and rows[1]["feedback_id"] == 3
    assert "note" not in rows[1]


def test_cli_export_then_data_add(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "feedback.sqlite3"
    with client_for(db) as c:
        c.post("/v1/feedback", json=CORRECTION)
        c.post("/v1/feedback", json={"text": "The dam held.", "label": "fact"})
    out = tmp_path / "feedback.jsonl"
    assert main(["feedback", "export", "--out", str(out), "--db", str(db)]) == 0
    assert "2 corrections, 2 sentences" in capsys.readouterr().out
    dev, challenge, train = (tmp_path / f"{n}.jsonl" for n in ("dev", "challenge", "train"))
    dev.write_text(json.dumps({"text": "The dam held.", "label": "fact", "domain": "x"}) + "\n")
    challenge.write_text("")
    argv = ["data", "add", str(out), "--to", str(train), "--dev", str(dev),
            "--challenge", str(challenge)]  # fmt: skip
    assert main(argv) == 0
    rows = [json.loads(line) for line in train.read_text().splitlines()]
    assert rows == [{"text": CORRECTION["text"], "label": "denial", "domain": "feedback"}]


def test_cli_export_without_a_database(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="does not exist"):
        main(
            ["feedback", "export", "--out", str(tmp_path / "x.jsonl"), "--db", str(tmp_path / "n")]
        )


def test_unusable_storage_is_a_503_not_a_crash(tmp_path: Path) -> None:
    with client_for(tmp_path) as c:  # a directory is no database
        r = c.post("/v1/feedback", json=CORRECTION)
        assert r.status_code == 503 and "unavailable" in r.json()["detail"]
        assert c.post("/v1/classify", json={"texts": ["Rain fell."]}).status_code == 200
