"""Fixtures for the article viewer in headless Chromium: skipped without a browser, not in CI."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from claimtype.settings import Settings
from tests.browser.harness import chromium_path, launch, live_server
from tests.fakes import FakePredictor


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    """Module-scoped: Playwright's loop must be gone before tests that run their own."""
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = chromium_path()
    if executable is None:
        # CI selects these tests by name (.ci/run): there a missing browser is a failure
        missing = pytest.fail if os.environ.get("CI") else pytest.skip
        missing("chromium is not installed: run scripts/install-browser.sh")
    with sync_api.sync_playwright() as p:
        browser = launch(p, executable)
        yield browser
        browser.close()


@pytest.fixture()
def open_page(browser) -> Iterator[Callable]:  # type: ignore[no-untyped-def]
    """open_page(url) -> a page in a fresh context (its own sessionStorage).

    An uncaught script error on any page fails the test that opened it.
    """
    contexts = []
    errors: list[str] = []

    def open_(url: str):  # type: ignore[no-untyped-def]
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        return page

    yield open_
    for context in contexts:
        context.close()
    assert errors == [], f"script errors on the page: {errors}"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """FakePredictor (cue-word labels, top probability 0.948) and a 600-character limit."""
    with live_server(Settings(max_article_chars=600), FakePredictor()) as url:
        yield url


@pytest.fixture(scope="module")
def auth_server() -> Iterator[str]:
    with live_server(Settings(api_keys="s3cret-key"), FakePredictor()) as url:
        yield url


@pytest.fixture(scope="module")
def feedback_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """FakePredictor with a feedback database of its own: (url, database path)."""
    db = tmp_path_factory.mktemp("viewer-feedback") / "feedback.sqlite3"
    with live_server(Settings(feedback_db=db), FakePredictor()) as url:
        yield url, db
