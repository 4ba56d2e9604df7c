"""Reloads: the old model is freed, and a reload without a directory keeps what is served."""

import concurrent.futures
import shutil
import threading
import time
import weakref
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import claimtype.api.reloading
import claimtype.predictor
from claimtype.api import create_app, load_predictor
from claimtype.settings import Settings
from tests.tiny import versioned_copy

ADMIN = {"Authorization": "Bearer root"}


def served_version(c: TestClient) -> str:
    return c.get("/v1/model").json()["version"]


@pytest.fixture()
def sessions(monkeypatch: pytest.MonkeyPatch) -> list[weakref.ref]:
    """A weak reference to the ONNX Runtime session of every predictor built."""
    refs: list[weakref.ref] = []
    init = claimtype.predictor.OnnxPredictor.__init__

    def recording_init(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        init(self, *args, **kwargs)
        refs.append(weakref.ref(self.session))

    monkeypatch.setattr(claimtype.predictor.OnnxPredictor, "__init__", recording_init)
    return refs


def test_reloads_under_load_free_every_old_session(
    tiny_model_dir: Path, sessions: list[weakref.ref]
) -> None:
    settings = Settings(model=tiny_model_dir, admin_keys="root", max_wait_ms=1)
    # the predictor is handed over the way `claimtype serve` does it
    app = create_app(settings, load_predictor(settings))
    stop = threading.Event()
    with TestClient(app) as c, concurrent.futures.ThreadPoolExecutor(4) as pool:

        def load() -> int:
            statuses = set()
            while not stop.is_set():
                texts = ["the union said the port would close"] * 3
                statuses.add(c.post("/v1/classify", json={"texts": texts}).status_code)
            return statuses == {200}

        clients = [pool.submit(load) for _ in range(4)]
        for _ in range(8):
            assert c.post("/v1/admin/reload", json={}, headers=ADMIN).status_code == 200
        stop.set()
        assert all(f.result() for f in clients)
        assert c.post("/v1/classify", json={"texts": ["the mayor said"]}).status_code == 200
        alive = [i for i, ref in enumerate(sessions) if ref() is not None]
        assert alive == [len(sessions) - 1], f"{len(sessions)} sessions built, alive: {alive}"


def test_a_failed_reload_leaves_nothing_behind(
    fresh_model_dir: Path, tmp_path: Path, sessions: list[weakref.ref]
) -> None:
    corrupt = tmp_path / "corrupt"
    shutil.copytree(fresh_model_dir, corrupt)
    (corrupt / "model_quantized.onnx").write_bytes(b"not a model")
    with TestClient(create_app(Settings(model=fresh_model_dir, admin_keys="root"))) as c:
        r = c.post("/v1/admin/reload", json={"model": str(corrupt)}, headers=ADMIN)
        assert r.status_code == 409
        assert c.post("/v1/classify", json={"texts": ["the mayor said"]}).status_code == 200
        assert [ref() is not None for ref in sessions] == [True]


def sighup(c: TestClient) -> None:
    """What SIGHUP does, run on the app's event loop (signals do not reach the test thread)."""
    c.portal.call(c.app.state.served.reload)


def test_sighup_after_an_admin_reload_keeps_the_directory_it_named(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    other = versioned_copy(tiny_model_dir, tmp_path / "other", "9.9.9")
    with TestClient(create_app(Settings(model=tiny_model_dir, admin_keys="root"))) as c:
        r = c.post("/v1/admin/reload", json={"model": str(other)}, headers=ADMIN)
        assert r.json()["version"] == "9.9.9"
        sighup(c)
        assert served_version(c) == "9.9.9"
        assert c.post("/v1/admin/reload", json={}, headers=ADMIN).json()["version"] == "9.9.9"


def test_a_server_without_model_follows_the_registry(
    tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --model, reloads look the registry up afresh, also after a reload naming its
    current directory (what `promote --reload` sends); naming another directory pins it."""
    current = versioned_copy(tiny_model_dir, tmp_path / "v1", "1.0.0")
    monkeypatch.setattr(claimtype.api.reloading, "default_model_dir", lambda: current)
    settings = Settings(admin_keys="root")
    with TestClient(create_app(settings, load_predictor(settings, tiny_model_dir))) as c:
        sighup(c)
        assert served_version(c) == "1.0.0"
        current = versioned_copy(tiny_model_dir, tmp_path / "v2", "2.0.0")  # a promotion
        r = c.post("/v1/admin/reload", json={"model": str(current)}, headers=ADMIN)
        assert r.json()["version"] == "2.0.0"
        current = tmp_path / "v1"  # a rollback
        sighup(c)
        assert served_version(c) == "1.0.0"
        pinned = versioned_copy(tiny_model_dir, tmp_path / "pinned", "7.0.0")
        c.post("/v1/admin/reload", json={"model": str(pinned)}, headers=ADMIN)
        current = tmp_path / "v2"
        sighup(c)
        assert served_version(c) == "7.0.0"


def test_results_name_the_model_that_computed_them(tiny_model_dir: Path, tmp_path: Path) -> None:
    other = versioned_copy(tiny_model_dir, tmp_path / "other", "9.9.9")
    with TestClient(create_app(Settings(model=tiny_model_dir, admin_keys="root"))) as c:
        before = c.post("/v1/classify", json={"texts": ["the mayor said"]}).json()["model"]
        c.post("/v1/admin/reload", json={"model": str(other)}, headers=ADMIN)
        after = c.post("/v1/classify/article", json={"text": "The mayor said so."}).json()
        assert (before, after["model"]) == ("tiny-model@0.0.1", "tiny-model@9.9.9")
        assert c.get("/readyz").json()["model"] == "tiny-model@9.9.9"


def test_model_info_changes_with_the_model_new_requests_get(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    """While a batch on the old model is still running, /v1/model names the new one."""
    other = versioned_copy(tiny_model_dir, tmp_path / "other", "9.9.9")
    settings = Settings(model=tiny_model_dir, admin_keys="root")
    old = load_predictor(settings)
    running, release = threading.Event(), threading.Event()
    predict = old.predict

    def slow_predict(texts):  # type: ignore[no-untyped-def]
        running.set()
        release.wait(30)
        return predict(texts)

    old.predict = slow_predict  # type: ignore[method-assign]
    app = create_app(settings, old)
    with TestClient(app) as c, concurrent.futures.ThreadPoolExecutor(2) as pool:
        in_flight = pool.submit(c.post, "/v1/classify", json={"texts": ["the mayor said"]})
        assert running.wait(30)
        reload = pool.submit(c.post, "/v1/admin/reload", json={"model": str(other)}, headers=ADMIN)
        deadline = time.monotonic() + 30
        while app.state.served.batcher.model != "tiny-model@9.9.9" and time.monotonic() < deadline:
            time.sleep(0.01)
        try:
            assert served_version(c) == "9.9.9"  # what the next classify will be answered by
        finally:
            release.set()
        assert in_flight.result().json()["model"] == "tiny-model@0.0.1"
        assert reload.result().status_code == 200
        assert c.post("/v1/classify", json={"texts": ["x"]}).json()["model"] == "tiny-model@9.9.9"
