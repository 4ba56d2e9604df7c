"""Shared fixtures: a tiny BERT trained for a few steps, exported to a model directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import tiny
from tests.fixtures.build_tiny_model import FIXTURE as TINY_MODEL
from tests.fixtures.build_tiny_model import tiny_evidence_config, tiny_train_config

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "models" / "claimtype-minilm"


def _need_training() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("datasets")


@pytest.fixture(scope="session", autouse=True)
def _feedback_db_in_tmp(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """No test app writes feedback.sqlite3 into the working directory."""
    db = tmp_path_factory.mktemp("feedback") / "feedback.sqlite3"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLAIMTYPE_FEEDBACK_DB", str(db))
        yield


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _need_training()
    path = tmp_path_factory.mktemp("base")
    tiny.build_base_model(path)
    return path


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return tiny.write_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def tiny_config(tiny_base: Path, tiny_corpus: tuple[Path, Path], tmp_path_factory):  # type: ignore[no-untyped-def]
    return tiny_train_config(tiny_base, tiny_corpus, tmp_path_factory.mktemp("runs") / "tiny")


@pytest.fixture(scope="session")
def tiny_run(tiny_config) -> Path:  # type: ignore[no-untyped-def]
    from claimtype.training.train import train

    return train(tiny_config)


@pytest.fixture(scope="session")
def tiny_evidence_run(tiny_config, tiny_run: Path, tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """tiny_run trained on with the evidence head: the model directory's full contract."""
    from claimtype.training.train import train

    out = tmp_path_factory.mktemp("runs") / "tiny-evidence"
    return train(tiny_evidence_config(tiny_config, tiny_run, out))


@pytest.fixture(scope="session")
def exported_model_dir(tiny_evidence_run: Path, tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """The tiny evidence run exported now: for tests of training and export themselves."""
    from claimtype.training.export import ExportConfig, export

    run = tiny_evidence_run
    out = tmp_path_factory.mktemp("models") / "tiny-model"
    cfg = ExportConfig(run=run, out=out, name="tiny-model", version="0.0.1", eval_files={})
    return export(cfg)


@pytest.fixture(scope="session")
def tiny_model_dir() -> Path:
    """The committed tiny model (tests/fixtures/build_tiny_model.py): runtime tests need no torch.

    Session-wide and shared: a test that changes a model directory uses fresh_model_dir.
    """
    return TINY_MODEL


@pytest.fixture()
def fresh_model_dir(tiny_model_dir: Path, tmp_path: Path) -> Path:
    """A copy of the tiny model directory that a test may damage."""
    import shutil

    copy = tmp_path / "model"
    shutil.copytree(tiny_model_dir, copy)
    return copy
