"""API keys: checked before the body is read, compared exactly, pages open only as configured."""

import pytest
from fastapi.testclient import TestClient

from claimtype.api import create_app
from claimtype.settings import Settings
from tests.fakes import FakePredictor

JSON = {"Content-Type": "application/json"}
MALFORMED = {"content": b'{"texts": [', "headers": JSON}


def client_for(**settings) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(create_app(Settings(**settings), FakePredictor()))


@pytest.fixture()
def client() -> TestClient:
    with client_for(api_keys="k1,k2", admin_keys="root") as c:
        yield c


@pytest.mark.parametrize(
    ("path", "status"), [("/v1/classify", 401), ("/v1/feedback", 401), ("/v1/admin/reload", 401)]
)
def test_a_malformed_body_without_a_key_is_refused_before_it_is_read(
    client: TestClient, path: str, status: int
) -> None:
    r = client.post(path, **MALFORMED)
    assert r.status_code == status, r.text
    assert "key" in r.json()["detail"]
    assert r.headers["www-authenticate"] == "Bearer"


def test_with_a_key_the_same_body_is_a_422(client: TestClient) -> None:
    r = client.post("/v1/classify", content=b'{"texts": [', headers={**JSON, "X-API-Key": "k1"})
    assert r.status_code == 422


@pytest.mark.parametrize(
    "header",
    [
        {"Authorization": "Bearer k1 "},  # trailing space reaching the app
        {"Authorization": "Bearer k1\t"},  # trailing tab
        {"Authorization": "Bearer  k1"},  # two spaces after Bearer
        {"Authorization": b"Bearer k1\xa0"},  # trailing no-break space
        {"Authorization": b"Bearer \xa0k1"},  # leading no-break space
        {"Authorization": "Bearer\tk1"},  # a tab is not the separator
        {"Authorization": "Bearer k1,"},
        {"Authorization": "Bearer K1"},  # keys are case-sensitive
        {"Authorization": "Bearer k"},  # a prefix of a key
        {"Authorization": "Bearer k1k2"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic k1"},
        {"X-API-Key": "k1 "},
        {"X-API-Key": b"k1\xa0"},
        {"X-API-Key": ""},
    ],
)
def test_near_misses_are_refused(client: TestClient, header: dict) -> None:
    assert client.post("/v1/classify", json={"texts": ["x"]}, headers=header).status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        {"Authorization": "Bearer k1"},
        {"Authorization": "bearer k2"},  # the scheme is case-insensitive
        {"X-API-Key": "k2"},
        {"Authorization": "Basic xyz", "X-API-Key": "k1"},  # another scheme: X-API-Key counts
    ],
)
def test_exact_keys_are_accepted(client: TestClient, header: dict) -> None:
    assert client.post("/v1/classify", json={"texts": ["x"]}, headers=header).status_code == 200


def test_a_bearer_token_wins_over_x_api_key(client: TestClient) -> None:
    header = {"Authorization": "Bearer wrong", "X-API-Key": "k1"}
    assert client.post("/v1/classify", json={"texts": ["x"]}, headers=header).status_code == 401


def test_presented_key_takes_the_first_header_of_each_kind() -> None:
    from claimtype.api.auth import presented_key

    headers = [(b"x-api-key", b"a"), (b"authorization", b"Bearer  b"), (b"x-api-key", b"c")]
    assert presented_key(headers) == b" b"
    assert presented_key([(b"x-api-key", b"a"), (b"x-api-key", b"c")]) == b"a"
    assert presented_key([]) is None


def test_admin_routes_take_admin_keys_only(client: TestClient) -> None:
    assert client.post("/v1/admin/reload", json={}, headers={"X-API-Key": "k1"}).status_code == 401
    with client_for() as c:  # no admin keys: admin routes are off, whatever is sent
        assert c.post("/v1/admin/reload", **MALFORMED).status_code == 403


@pytest.mark.parametrize(
    ("pages", "open_paths"),
    [
        (None, {"/", "/static/app.js", "/docs", "/redoc", "/openapi.json"}),  # the default
        ("viewer", {"/", "/static/app.js"}),
        ("docs,openapi", {"/docs", "/redoc", "/openapi.json"}),
        ("openapi", {"/openapi.json"}),
        ("", set()),
    ],
)
def test_public_pages_setting(pages: str | None, open_paths: set[str]) -> None:
    settings = {"api_keys": "k1"} | ({} if pages is None else {"public_pages": pages})
    with client_for(**settings) as c:
        for path in ("/", "/static/app.js", "/docs", "/redoc", "/openapi.json"):
            expected = 200 if path in open_paths else 401
            assert c.get(path).status_code == expected, path
            assert c.get(path, headers={"X-API-Key": "k1"}).status_code == 200, path
        assert c.get("/healthz").status_code == 200
        assert c.get("/v1/model").status_code == 401


def test_public_pages_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown pages"):
        Settings(public_pages="viewer,metrics")
    with pytest.raises(ValueError, match="docs needs openapi"):
        Settings(public_pages="docs")


def test_unknown_paths_need_a_key(client: TestClient) -> None:
    assert client.get("/nowhere").status_code == 401
    assert client.get("/nowhere", headers={"X-API-Key": "k1"}).status_code == 404
