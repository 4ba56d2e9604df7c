"""Operations: auth, model info, articles, metrics, readiness, hot reload."""

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from claimtype.api import create_app
from claimtype.settings import Settings
from tests.fakes import FakePredictor


def client_for(**settings) -> TestClient:  # type: ignore[no-untyped-def]
    predictor = settings.pop("predictor", FakePredictor())
    return TestClient(create_app(Settings(**settings), predictor))


@pytest.mark.parametrize("header", [{"Authorization": "Bearer k2"}, {"X-API-Key": "k1"}])
def test_auth_on_accepts_either_header(header: dict) -> None:
    with client_for(api_keys="k1,k2") as c:
        assert c.post("/v1/classify", json={"texts": ["x"]}).status_code == 401
        assert (
            c.post("/v1/classify", json={"texts": ["x"]}, headers={"X-API-Key": "k3"}).status_code
            == 401
        )
        assert c.post("/v1/classify", json={"texts": ["x"]}, headers=header).status_code == 200
        assert c.get("/healthz").status_code == 200  # health stays open by default
        assert c.get("/metrics").status_code == 200


def test_auth_from_key_file_and_on_health_and_metrics(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("# ops keys\nsecret-one\n\n")
    with client_for(api_key_file=keys, auth_health=True, auth_metrics=True) as c:
        assert c.get("/healthz").status_code == 401
        assert c.get("/metrics").status_code == 401
        ok = {"X-API-Key": "secret-one"}
        assert c.get("/healthz", headers=ok).status_code == 200
        assert c.get("/metrics", headers=ok).status_code == 200


def test_auth_off_by_default() -> None:
    with client_for() as c:
        assert c.post("/v1/classify", json={"texts": ["x"]}).status_code == 200


def test_article_sentences_offsets_and_counts() -> None:
    article = (
        "Storm hits coast\nOfficials said 40 people died. The mayor offered shelter."
        "\n\nNo one denied it."
    )
    with client_for() as c:
        r = c.post("/v1/classify/article", json={"text": article, "id": "a1"})
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == "a1"
    assert [s["text"] for s in body["sentences"]] == [
        "Storm hits coast",
        "Officials said 40 people died.",
        "The mayor offered shelter.",
        "No one denied it.",
    ]
    for s in body["sentences"]:
        assert article[s["start"] : s["end"]] == s["text"]
    assert body["counts"] == {"fact": 1, "claim": 1, "denial": 1, "offer": 1}


def test_article_limits() -> None:
    with client_for(max_article_chars=50) as c:
        assert c.post("/v1/classify/article", json={"text": "x" * 51}).status_code == 413
        assert c.post("/v1/classify/article", json={"text": "  \n "}).status_code == 422
        assert c.post("/v1/classify/article", json={"text": ""}).status_code == 422


def test_metrics_count_requests_batches_and_labels() -> None:
    with client_for() as c:
        c.post("/v1/classify", json={"texts": ["The firm offered $5.", "Rain fell."]})
        c.post("/v1/classify", json={"texts": []})
        text = c.get("/metrics").text
    assert 'claimtype_requests_total{route="/v1/classify",status="200"} 1.0' in text
    assert 'claimtype_requests_total{route="/v1/classify",status="422"} 1.0' in text
    assert 'claimtype_predictions_total{label="offer"} 1.0' in text
    assert "claimtype_batch_size_bucket" in text and "claimtype_request_seconds_bucket" in text
    assert 'claimtype_model_info{model="fake@0"} 1.0' in text


def test_request_id_is_echoed_or_made() -> None:
    with client_for() as c:
        assert c.get("/healthz", headers={"X-Request-ID": "abc"}).headers["x-request-id"] == "abc"
        assert len(c.get("/healthz").headers["x-request-id"]) == 32


def test_concurrent_requests_are_batched() -> None:
    import concurrent.futures

    fake = FakePredictor()
    with (
        client_for(predictor=fake, max_wait_ms=20) as c,
        concurrent.futures.ThreadPoolExecutor(8) as pool,
    ):
        texts = [f"Officials said {i} things." for i in range(32)]
        results = list(
            pool.map(lambda t: c.post("/v1/classify", json={"texts": [t]}).json(), texts)
        )
    assert all(r["results"][0]["label"] == "claim" for r in results)
    assert sum(len(call) for call in fake.calls) == 32
    assert len(fake.calls) < 32  # some calls carried several requests


def test_model_info_readyz_and_truncation(tiny_model_dir: Path) -> None:
    with TestClient(create_app(Settings(model=tiny_model_dir))) as c:
        info = c.get("/v1/model").json()
        assert info["name"] == "tiny-model" and info["precision"] == "int8"
        assert [x["name"] for x in info["labels"]] == ["fact", "claim", "denial", "offer"]
        assert "macro_f1" in info["metrics"]["dev"] and "model_quantized.onnx" in info["files"]
        assert c.get("/readyz").json()["status"] == "ready"
        long = "the union said " * 40
        r = c.post("/v1/classify", json={"texts": [long, "the union said"]}).json()
        assert [x["truncated"] for x in r["results"]] == [True, False]


def test_fp32_on_request(tiny_model_dir: Path) -> None:
    with TestClient(create_app(Settings(model=tiny_model_dir, precision="fp32"))) as c:
        assert c.get("/v1/model").json()["precision"] == "fp32"


def test_reload_good_and_corrupt_models(tiny_model_dir: Path, tmp_path: Path) -> None:
    good = tmp_path / "good"
    shutil.copytree(tiny_model_dir, good)
    manifest = json.loads((good / "manifest.json").read_text())
    manifest["version"] = "9.9.9"
    (good / "manifest.json").write_text(json.dumps(manifest))
    corrupt = tmp_path / "corrupt"
    shutil.copytree(tiny_model_dir, corrupt)
    (corrupt / "model_quantized.onnx").write_bytes(b"not a model")
    admin = {"Authorization": "Bearer root"}
    with TestClient(create_app(Settings(model=tiny_model_dir, admin_keys="root"))) as c:
        assert c.post("/v1/admin/reload", json={}).status_code == 401
        r = c.post("/v1/admin/reload", json={"model": str(corrupt)}, headers=admin)
        assert r.status_code == 409 and "sha256" in r.json()["detail"]
        assert c.get("/v1/model").json()["version"] == "0.0.1"
        assert c.post("/v1/classify", json={"texts": ["the union said"]}).status_code == 200
        r = c.post("/v1/admin/reload", json={"model": str(good)}, headers=admin)
        assert r.status_code == 200 and r.json()["version"] == "9.9.9"
        assert c.post("/v1/classify", json={"texts": ["x"]}).json()["model"] == "tiny-model@9.9.9"


def test_admin_off_without_admin_keys() -> None:
    with client_for() as c:
        assert c.post("/v1/admin/reload", json={}).status_code == 403


def test_metrics_label_requests_by_the_route_that_served_them() -> None:
    app = create_app(Settings(api_keys="k1"), FakePredictor())

    @app.get("/v1/extra")  # a route added later needs no second list to be counted
    async def extra() -> dict[str, str]:
        return {}

    with TestClient(app) as c:
        c.get("/v1/extra", headers={"X-API-Key": "k1"})
        c.get("/static/app.js")
        c.get("/no/such/path")
        c.post("/v1/classify", json={"texts": ["x"]})  # refused before routing: no key
        text = c.get("/metrics").text
    assert 'claimtype_requests_total{route="/v1/extra",status="200"} 1.0' in text
    assert 'claimtype_requests_total{route="/static/{name}",status="200"} 1.0' in text
    assert 'claimtype_requests_total{route="other",status="401"} 1.0' in text
    assert 'claimtype_requests_total{route="/v1/classify",status="401"} 1.0' in text


def test_model_info_lists_only_the_files_the_directory_holds(fresh_model_dir: Path) -> None:
    (fresh_model_dir / "model.onnx").unlink()  # the fp32 graph is optional: git holds only int8
    with TestClient(create_app(Settings(model=fresh_model_dir))) as c:
        info = c.get("/v1/model").json()
    assert "model.onnx" not in info["files"] and "model_quantized.onnx" in info["files"]
    assert info["precisions"] == ["int8"]


def test_a_wrong_onnx_output_name_is_refused_at_load(
    tiny_model_dir: Path, fresh_model_dir: Path
) -> None:
    manifest = json.loads((fresh_model_dir / "manifest.json").read_text())
    manifest["output"] = "probabilities"  # the graph's output is called logits
    (fresh_model_dir / "manifest.json").write_text(json.dumps(manifest))
    admin = {"Authorization": "Bearer root"}
    with TestClient(create_app(Settings(model=tiny_model_dir, admin_keys="root"))) as c:
        r = c.post("/v1/admin/reload", json={"model": str(fresh_model_dir)}, headers=admin)
        assert r.status_code == 409 and "'probabilities'" in r.json()["detail"]
        assert c.post("/v1/classify", json={"texts": ["x"]}).status_code == 200


def test_threads_follow_the_cores_this_process_may_use(
    tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from claimtype import cpus
    from claimtype.api import load_predictor

    monkeypatch.setattr(os, "cpu_count", lambda: 64)  # the host's count, not ours
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0}, raising=False)
    monkeypatch.setattr(cpus, "cgroup_quota", lambda: None)
    predictor = load_predictor(Settings(model=tiny_model_dir))
    assert predictor.session.get_session_options().intra_op_num_threads == 1


def test_a_cgroup_quota_caps_the_cores(tmp_path: Path) -> None:
    from claimtype.cpus import cgroup_quota

    v2 = tmp_path / "cpu.max"
    v1 = (tmp_path / "quota", tmp_path / "period")
    assert cgroup_quota(v2, v1) is None  # no cgroup files: no quota
    v2.write_text("150000 100000\n")
    assert cgroup_quota(v2, v1) == 2  # 1.5 cores: two threads, rounded up
    v2.write_text("max 100000\n")
    assert cgroup_quota(v2, v1) is None
    v2.unlink()
    v1[0].write_text("-1\n")
    v1[1].write_text("100000\n")
    assert cgroup_quota(v2, v1) is None
    v1[0].write_text("50000\n")
    assert cgroup_quota(v2, v1) == 1
