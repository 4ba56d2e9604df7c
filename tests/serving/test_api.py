import pytest
from fastapi.testclient import TestClient

from claimtype.api import create_app
from claimtype.settings import Settings
from tests.fakes import FakePredictor


@pytest.fixture()
def client() -> TestClient:
    settings = Settings(max_texts=3, max_chars=200, max_body_bytes=4096)
    with TestClient(create_app(settings, FakePredictor())) as c:
        yield c


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_classify_answers_in_order_with_ids(client: TestClient) -> None:
    texts = ["The ministry denied the report.", "Rain fell.", "The firm offered $5."]
    r = client.post("/v1/classify", json={"texts": texts, "ids": ["a", "b", "c"]})
    assert r.status_code == 200
    body = r.json()
    assert body["model"] == "fake@0"
    assert [x["label"] for x in body["results"]] == ["denial", "fact", "offer"]
    assert [x["id"] for x in body["results"]] == ["a", "b", "c"]
    assert all(abs(sum(x["scores"].values()) - 1) < 1e-4 for x in body["results"])


@pytest.mark.parametrize(
    ("payload", "status", "needle"),
    [
        ({"texts": []}, 422, "texts"),
        ({"texts": ["a", "b", "c", "d"]}, 413, "max_texts"),
        ({"texts": ["x" * 201]}, 413, "max_chars"),
        ({"texts": ["   "]}, 422, "empty"),
        ({"texts": [None]}, 422, "texts"),
        ({"texts": [3]}, 422, "texts"),
        ({"texts": "one string"}, 422, "texts"),
        ({}, 422, "texts"),
        ({"texts": ["a"], "ids": ["1", "2"]}, 422, "ids"),
        ({"texts": ["a"], "extra": 1}, 422, "extra"),
        ([1, 2], 422, ""),
    ],
)
def test_bad_requests_get_4xx_with_a_message(
    client: TestClient, payload: object, status: int, needle: str
) -> None:
    r = client.post("/v1/classify", json=payload)
    assert r.status_code == status, r.text
    assert needle in r.json()["detail"]


def test_oversize_body_is_413(client: TestClient) -> None:
    r = client.post("/v1/classify", json={"texts": ["word " * 1000]})
    assert r.status_code == 413
    assert "max_body_bytes" in r.json()["detail"]


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe not utf-8", b'{"texts": ["\\ud800"]', b"", b'{"texts": ["a"]} trailing'],
)
def test_malformed_bodies_are_4xx(client: TestClient, raw: bytes) -> None:
    r = client.post("/v1/classify", content=raw, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500
    assert r.json()["detail"]


def test_lone_surrogate_text_is_scored_not_crashed(client: TestClient) -> None:
    r = client.post(
        "/v1/classify",
        content=b'{"texts": ["bad \\ud800 text"]}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code < 500


def test_openapi_is_served(client: TestClient) -> None:
    assert "/v1/classify" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200


def test_a_chunked_body_over_the_limit_is_413_not_400(client: TestClient) -> None:
    def chunks():  # no Content-Length: the size shows only while the body is read
        yield b'{"texts": ["'
        for _ in range(10):
            yield b"word " * 200
        yield b'"]}'

    r = client.post("/v1/classify", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413, r.text
    assert "max_body_bytes" in r.json()["detail"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_without_json_content_type_says_to_send_it(
    client: TestClient, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    r = client.post("/v1/classify", content=b'{"texts": ["Rain fell."]}', headers=headers)
    assert r.status_code == 415, r.text
    assert "Content-Type: application/json" in r.json()["detail"]


def test_a_body_that_is_not_utf8_is_named_as_such(client: TestClient) -> None:
    raw = '{"texts": ["Café"]}'.encode("latin-1")
    r = client.post("/v1/classify", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert "UTF-8" in r.json()["detail"] and "parsing the body" not in r.json()["detail"]


def test_one_check_for_size_and_empty_texts() -> None:
    """Classify, article and feedback refuse long and empty texts with the same words."""
    with TestClient(create_app(Settings(max_chars=20, max_article_chars=30), FakePredictor())) as c:
        answers = [
            c.post("/v1/classify", json={"texts": ["x" * 21]}),
            c.post("/v1/classify/article", json={"text": "x" * 31}),
            c.post("/v1/feedback", json={"text": "x" * 21, "label": "fact"}),
            c.post("/v1/classify", json={"texts": [" "]}),
            c.post("/v1/classify/article", json={"text": " "}),
            c.post("/v1/feedback", json={"text": " ", "label": "fact"}),
        ]
    details = [r.json()["detail"] for r in answers]
    assert [r.status_code for r in answers] == [413] * 3 + [422] * 3
    assert details[:3] == [
        "texts[0] has 21 characters > max_chars=20",
        "article has 31 characters > max_article_chars=30",
        "text has 21 characters > max_chars=20",
    ]
    assert details[3:] == ["texts[0] is empty", "article is empty", "text is empty"]


def test_classify_results_carry_evidence_with_offsets_into_each_text(client: TestClient) -> None:
    texts = ["\u201cNo,\u201d  the  ministry denied it.", "Rain fell in Lima."]
    r = client.post("/v1/classify", json={"texts": texts}).json()["results"]
    denial, fact = r
    assert fact["evidence"] == {"source": None, "cue": None}
    cue = denial["evidence"]["cue"]
    assert cue["text"] == "denied" and texts[0][cue["start"] : cue["end"]] == "denied"


def test_article_evidence_has_sentence_and_article_offsets_and_a_sources_table() -> None:
    article = "Rain fell in Lima.  The mayor denied the report. The Mayor said the port is shut."
    settings = Settings(max_article_chars=1000)
    with TestClient(create_app(settings, FakePredictor())) as c:
        body = c.post("/v1/classify/article", json={"text": article}).json()
    spans = [
        (s, span)
        for s in body["sentences"]
        for span in (s["evidence"]["source"], s["evidence"]["cue"])
        if span
    ]
    assert len(spans) == 4
    for sentence, span in spans:
        assert sentence["text"][span["start"] : span["end"]] == span["text"]
        assert article[span["article_start"] : span["article_end"]] == span["text"]
    assert body["sources"] == [
        {
            "source": "mayor",
            "names": ["The mayor", "The Mayor"],
            "claim": 1,
            "denial": 1,
            "offer": 0,
            "where": [1, 2],
        }
    ]
