"""Retraining runs: reproducible, self-describing, and tracked only when asked."""

import dataclasses
import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("torch")


def _losses(run: Path) -> list[float]:
    log = [json.loads(line) for line in (run / "training_log.jsonl").read_text().splitlines()]
    return [e["loss"] for e in log if "loss" in e] + [
        e["eval_loss"] for e in log if "eval_loss" in e
    ]


def test_same_data_config_and_seed_give_the_same_run(tiny_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import torch

    from claimtype.training.train import train

    runs = []
    for i, seed in enumerate((tiny_config.seed, tiny_config.seed, tiny_config.seed + 1)):
        torch.manual_seed(1000 + i)  # whatever the global RNG state was, the run must not care
        cfg = dataclasses.replace(tiny_config, out=tmp_path / f"run{i}", max_steps=20, seed=seed)
        runs.append(train(cfg))
    first, second = (json.loads((r / "metrics.json").read_text()) for r in runs[:2])
    assert first["dev_torch"] == second["dev_torch"]
    assert len(_losses(runs[0])) >= 3
    assert _losses(runs[0]) == pytest.approx(_losses(runs[1]), rel=1e-6)
    # the comparison can fail: another seed gives another run
    assert _losses(runs[0]) != pytest.approx(_losses(runs[2]), rel=1e-6)


def test_run_records_data_weights_code_config_and_report(tiny_run: Path, tiny_config) -> None:  # type: ignore[no-untyped-def]
    from claimtype.artefact import sha256_file
    from claimtype.training.config import TrainConfig

    info = json.loads((tiny_run / "metrics.json").read_text())
    assert info["data_files"] == {
        str(tiny_config.train_file): sha256_file(tiny_config.train_file),
        str(tiny_config.dev_file): sha256_file(tiny_config.dev_file),
    }
    assert info["base_sha256"] == sha256_file(tiny_config.base_model / "model.safetensors")
    assert info["code_version"] and info["code_version"] != "unknown"
    assert info["seed"] == tiny_config.seed and info["wall_seconds"] > 0
    assert TrainConfig.from_file(tiny_run / "train_config.json") == tiny_config
    report = (tiny_run / "report.md").read_text()
    for needle in (info["data_sha256"], info["base_sha256"], info["code_version"],
                   "](confusion_dev.png)", "](curves.png)", "wall time"):  # fmt: skip
        assert needle in report
    assert not (tiny_run / "tensorboard").exists()  # tracking is off by default


def test_export_adds_the_served_figures_to_the_report(
    exported_model_dir: Path, tiny_evidence_run: Path
) -> None:
    report = (tiny_evidence_run / "report.md").read_text()
    assert "int8 ONNX" in report and "](confusion_dev_int8.png)" in report
    assert (tiny_evidence_run / "confusion_dev_int8.png").is_file()
    training = json.loads((exported_model_dir / "metrics.json").read_text())["training"]
    assert training["run"] == str(tiny_evidence_run.resolve())
    assert len(training["data_sha256"]) == 64


@pytest.mark.skipif(importlib.util.find_spec("tensorboard") is None, reason="no tensorboard")
def test_tensorboard_logs_into_the_run(tiny_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from claimtype.training.train import train

    cfg = dataclasses.replace(
        tiny_config, out=tmp_path / "tb", max_steps=10, report_to=["tensorboard"]
    )
    run = train(cfg)
    events = list((run / "tensorboard").glob("events.out.tfevents.*"))
    assert events and sum(e.stat().st_size for e in events) > 100


@pytest.mark.skipif(importlib.util.find_spec("mlflow") is not None, reason="mlflow is installed")
def test_missing_tracker_says_what_to_install(tiny_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from claimtype.training.train import train

    cfg = dataclasses.replace(tiny_config, out=tmp_path / "ml", max_steps=1, report_to=["mlflow"])
    with pytest.raises(ImportError, match="pip install"):
        train(cfg)
