"""The viewer's server side: the page and its assets, headers, packaging. No browser needed."""

from __future__ import annotations

import html
import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claimtype.api import create_app, viewer
from claimtype.api.viewer import ASSETS, CSP, DEFINITIONS_MARK
from claimtype.labels import DEFINITIONS, LABELS
from claimtype.settings import Settings
from tests.fakes import FakePredictor

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "serving" / "api" / "static"


@pytest.fixture()
def client() -> TestClient:
    with TestClient(create_app(Settings(api_keys="k"), FakePredictor())) as c:
        yield c


def test_page_and_assets_are_served_without_a_key(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CSP
    assert "connect-src 'self'" in CSP and "default-src 'none'" in CSP
    for ref in re.findall(r'(?:src|href)="([^"#]+)"', page.text):
        if not ref.startswith("data:"):
            asset = client.get("/" + ref)
            assert asset.status_code == 200, ref
            assert asset.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert client.post("/v1/classify/article", json={"text": "Rain fell."}).status_code == 401


@pytest.mark.parametrize("path", ["/static/nope.js", "/static/index.html", "/static/..%2fapi.py"])
def test_only_the_listed_assets_are_served(client: TestClient, path: str) -> None:
    assert client.get(path, headers={"X-API-Key": "k"}).status_code == 404


def test_etag_revalidation(client: TestClient) -> None:
    first = client.get("/static/style.css")
    assert first.headers["cache-control"] == "no-cache"
    again = client.get("/static/style.css", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_viewer_can_be_turned_off() -> None:
    with TestClient(create_app(Settings(viewer=False), FakePredictor())) as c:
        assert c.get("/").status_code == 404
        assert c.get("/static/app.js").status_code == 404


def test_viewer_is_not_in_the_api_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths and not any(p.startswith("/static") for p in paths)


def test_assets_reach_no_other_host() -> None:
    """Air-gapped users: no URL to another host, no @import, no web font, no CDN."""
    for name in ASSETS:
        text = (STATIC / name).read_text()
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import|@font-face", text), name
    assert sorted(p.name for p in STATIC.iterdir()) == sorted(ASSETS)


def test_assets_are_package_data() -> None:
    """A wheel that left them out would serve a 500 instead of the page."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "claimtype.api.static" in setuptools["packages"]
    patterns = setuptools["package-data"]["claimtype.api.static"]
    for name in ASSETS:
        assert any(fnmatch(name, p) for p in patterns), name


def test_the_page_carries_the_label_definitions(client: TestClient) -> None:
    """Written in by the server from claimtype.labels: a first visit needs no key and no model."""
    page = client.get("/").text
    assert DEFINITIONS_MARK.decode() not in page
    terms = re.findall(r'<div data-label="(\w+)"><dt>.*?</dt><dd>(.*?)</dd></div>', page)
    assert terms == [(name, html.escape(DEFINITIONS[name])) for name in LABELS]
    assert DEFINITIONS_MARK in (STATIC / "index.html").read_bytes()


def test_a_page_without_the_mark_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(viewer, "DEFINITIONS_MARK", b"<!-- no such mark -->")
    with pytest.raises(RuntimeError, match="lost its <!-- no such mark --> mark"):
        viewer.viewer_router()
