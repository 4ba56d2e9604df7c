"""compare, promote and rollback: evaluated side by side, gated, recorded, reversible."""

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from claimtype.artefact import ModelDirError
from claimtype.registry import RegistryError, read_registry, rollback
from claimtype.settings import default_model_dir
from claimtype.training.promote import (
    PromotionRefused,
    compare,
    format_comparison,
    gate,
    load_sets,
    promote,
)
from tests import tiny


def _summary(macro: float, **f1: float) -> dict:
    return {"n": 100, "accuracy": macro, "macro_f1": macro,
            "f1": {"fact": 0.9, "claim": 0.9, "denial": 0.9, "offer": 0.9, **f1}}  # fmt: skip


def test_gate_passes_a_better_or_equal_candidate() -> None:
    current = {"dev": _summary(0.90), "challenge": _summary(0.85)}
    assert gate({"dev": _summary(0.92), "challenge": _summary(0.85)}, current) == []
    assert gate(current, current) == []


def test_gate_limits_are_inclusive() -> None:
    current = {"dev": _summary(0.9000)}
    # exactly 0.5 points of macro-F1 and 2 points of one label lower: still allowed
    assert gate({"dev": _summary(0.8950, offer=0.88)}, current) == []


def test_gate_refuses_a_macro_f1_drop() -> None:
    reasons = gate({"dev": _summary(0.8940)}, {"dev": _summary(0.9000)})
    assert reasons == ["dev: macro-F1 0.8940 vs 0.9000 (-0.60 points; at most -0.5 allowed)"]


def test_gate_refuses_one_label_dropping_even_if_macro_f1_rises() -> None:
    candidate = {"dev": _summary(0.95, denial=0.879), "challenge": _summary(0.9)}
    reasons = gate(candidate, {"dev": _summary(0.90), "challenge": _summary(0.9)})
    assert len(reasons) == 1 and reasons[0].startswith("dev: F1 denial 0.8790 vs 0.9000")


def test_gate_refuses_a_candidate_not_measured_on_a_set() -> None:
    assert gate({"dev": _summary(0.9)}, {"dev": _summary(0.9), "challenge": _summary(0.9)}) == [
        "challenge: the candidate was not evaluated on it"
    ]


# ---- end to end, with two tiny models that really differ -------------------------------


@pytest.fixture(scope="module")
def candidates(exported_model_dir: Path, tiny_config, tmp_path_factory) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    """good: the tiny model (0.0.1); bad: the same recipe stopped after one step (0.0.2, 0.0.3)."""
    from claimtype.training.export import ExportConfig, export
    from claimtype.training.train import train

    root = tmp_path_factory.mktemp("candidates")
    run = train(dataclasses.replace(tiny_config, out=root / "bad-run", max_steps=1))
    # an untrained model's logits are nearly tied: int8 may flip them, which is not the point here
    loose = {"eval_files": {}, "min_agreement": 0.0, "min_class_agreement": 0.0}
    bad = export(
        ExportConfig(run=run, out=root / "bad", name="tiny-model", version="0.0.2", **loose)
    )
    worse = export(
        ExportConfig(run=run, out=root / "worse", name="tiny-model", version="0.0.3", **loose)
    )
    return {"good": exported_model_dir, "bad": bad, "worse": worse}


@pytest.fixture(scope="module")
def sets(tiny_config, tmp_path_factory):  # type: ignore[no-untyped-def]
    challenge = tmp_path_factory.mktemp("challenge") / "challenge.jsonl"
    challenge.write_text("".join(json.dumps(r) + "\n" for r in tiny.sentences(6, seed=99)))
    return load_sets({"dev": tiny_config.dev_file, "challenge": challenge})


def test_compare_evaluates_both_models_on_the_same_sets(candidates, sets) -> None:  # type: ignore[no-untyped-def]
    from claimtype.api import load_predictor
    from claimtype.settings import Settings
    from claimtype.training.evaluate import evaluate_predictor

    c = compare(candidates["good"], candidates["bad"], sets)
    for model, figures in ((candidates["good"], c.candidate_metrics),
                           (candidates["bad"], c.against_metrics)):  # fmt: skip
        predictor = load_predictor(Settings(model=model))
        for s in sets:
            direct = evaluate_predictor(predictor, s.rows).metrics
            assert figures[s.name]["macro_f1"] == direct["macro_f1"]
            assert figures[s.name]["n"] == len(s.rows)
    assert c.candidate_metrics["dev"]["macro_f1"] - c.against_metrics["dev"]["macro_f1"] > 0.3
    table = format_comparison(c)
    assert "tiny-model@0.0.1" in table and "tiny-model@0.0.2" in table
    assert "dev (48)" in table and "challenge (24)" in table and "F1 denial" in table


def test_promote_refuse_force_and_rollback(candidates, sets, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    models = tmp_path / "models"

    first = promote(candidates["bad"], models, sets)  # nothing to compare with yet
    assert first.comparison.against_metrics is None and first.gate_failures == []
    assert default_model_dir() == models / "tiny-model-0.0.2"

    better = promote(candidates["good"], models, sets)
    assert better.gate_failures == [] and better.directory == models / "tiny-model-0.0.1"
    registry = read_registry(models)
    assert registry is not None and registry.current == "0.0.1" and registry.previous == ["0.0.2"]
    entry = registry.versions["0.0.1"]
    good_metrics = json.loads((candidates["good"] / "metrics.json").read_text())
    assert entry.parent == "0.0.2" and entry.data_sha256 == good_metrics["training"]["data_sha256"]
    assert entry.run == good_metrics["training"]["run"]
    assert (
        entry.metrics["dev"]["macro_f1"] == better.comparison.candidate_metrics["dev"]["macro_f1"]
    )
    assert set(entry.evaluated_on) == {"dev", "challenge"}
    assert default_model_dir() == models / "tiny-model-0.0.1"

    before = (models / "registry.json").read_bytes()
    with pytest.raises(PromotionRefused) as refused:
        promote(candidates["worse"], models, sets)
    assert any("macro-F1" in r for r in refused.value.reasons)
    assert (models / "registry.json").read_bytes() == before
    assert not (models / "tiny-model-0.0.3").exists()

    forced = promote(candidates["worse"], models, sets, force=True, note="demo")
    registry = read_registry(models)
    assert registry.current == "0.0.3" and registry.versions["0.0.3"].forced
    assert registry.versions["0.0.3"].gate_failures == forced.gate_failures != []
    assert registry.events[-1].forced and registry.events[-1].note == "demo"

    old, new = rollback(models)
    assert (old.version, new.version) == ("0.0.3", "0.0.1")
    assert default_model_dir() == models / "tiny-model-0.0.1"
    assert rollback(models)[1].version == "0.0.2"
    with pytest.raises(RegistryError, match="nothing to roll back to"):
        rollback(models)
    assert [e.action for e in read_registry(models).events] == [
        "promote", "promote", "promote", "rollback", "rollback"
    ]  # fmt: skip


def test_the_shipped_model_becomes_the_first_version(candidates, sets, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    models = tmp_path / "models"
    shutil.copytree(candidates["bad"], models / "claimtype-minilm")
    promote(candidates["good"], models, sets)
    registry = read_registry(models)
    shipped = registry.versions["0.0.2"]
    assert shipped.dir == "claimtype-minilm" and shipped.metrics["dev"]["macro_f1"] < 0.6
    assert registry.events[0].action == "register"
    with pytest.raises(RegistryError, match="already the current"):
        promote(candidates["good"], models, sets)
    other = tmp_path / "other"
    shutil.copytree(candidates["good"], other)
    manifest = json.loads((other / "manifest.json").read_text())
    (other / "manifest.json").write_text(json.dumps({**manifest, "version": "0.0.2"}))
    with pytest.raises(RegistryError, match="other files"):
        promote(other, models, sets)
    assert rollback(models)[1].dir == "claimtype-minilm"


def test_rollback_refuses_a_damaged_model(candidates, sets, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    models = tmp_path / "models"
    promote(candidates["bad"], models, sets)
    promote(candidates["good"], models, sets)
    (models / "tiny-model-0.0.2" / "model_quantized.onnx").write_bytes(b"broken")
    before = (models / "registry.json").read_bytes()
    with pytest.raises(ModelDirError, match="sha256"):
        rollback(models)
    assert (models / "registry.json").read_bytes() == before


def test_a_broken_registry_is_an_error_not_a_fallback(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "registry.json").write_text('{"current": "1.0", "versions": {}}')
    with pytest.raises(RegistryError, match="not listed"):
        default_model_dir()


def test_a_running_server_follows_promote_and_rollback(candidates, sets, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """promote --reload swaps the model of a live server; a plain reload re-reads the registry."""
    import socket
    import threading
    import time
    import urllib.request

    import uvicorn

    from claimtype.api import create_app
    from claimtype.cli import main
    from claimtype.settings import Settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLAIMTYPE_ADMIN_KEY", "root")
    promote(candidates["bad"], tmp_path / "models", sets)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(Settings(admin_keys="root", threads=1))  # the default model: the registry's
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"

    def version() -> str:
        with urllib.request.urlopen(f"{url}/v1/model", timeout=10) as r:
            return json.loads(r.read())["version"]

    try:
        deadline = time.time() + 30
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        assert version() == "0.0.2"
        dev, challenge = (str(s.path) for s in sets)
        argv = ["promote", str(candidates["good"]), "--dev", dev, "--challenge", challenge]
        assert main([*argv, "--reload", url]) == 0
        assert version() == "0.0.1"
        assert main(["rollback"]) == 0  # no --reload: the server keeps 0.0.1 until told
        assert version() == "0.0.1"
        request = urllib.request.Request(
            f"{url}/v1/admin/reload", data=b"{}", method="POST",
            headers={"Content-Type": "application/json", "Authorization": "Bearer root"},
        )  # fmt: skip
        urllib.request.urlopen(request, timeout=60).close()  # what SIGHUP does
        assert version() == "0.0.2"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
