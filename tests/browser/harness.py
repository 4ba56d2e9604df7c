"""The browser test harness: Debian's Chromium under Playwright, and the app on loopback.

Kept apart from conftest.py so scripts/viewer_screenshot.py drives the page the same
way the tests do. `playwright install` is never run (it downloads a browser): the
browser is the system's, from scripts/install-browser.sh.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from claimtype.api import create_app
from claimtype.predictor import Predictor
from claimtype.settings import Settings

__all__ = ["ARTIFACTS", "CHROMIUM_ARGS", "chromium_path", "launch", "live_server"]

#: screenshots and other test outputs (git-ignored)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """CLAIMTYPE_CHROMIUM, else chromium on PATH (Debian's package), else None."""
    return os.environ.get("CLAIMTYPE_CHROMIUM") or shutil.which("chromium")


def launch(playwright, executable: str):  # type: ignore[no-untyped-def]
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(settings: Settings, predictor: Predictor | None = None) -> Iterator[str]:
    """The real app under uvicorn on a free loopback port, in a daemon thread."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        create_app(settings, predictor), host="127.0.0.1", port=port, log_level="error"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started:
        if not thread.is_alive() or time.time() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
