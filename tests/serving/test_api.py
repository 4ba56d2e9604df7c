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
