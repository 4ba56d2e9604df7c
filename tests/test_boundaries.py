"""The runtime never loads torch, transformers or the training package."""

import json
import os
import re
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
from fastapi.testclient import TestClient
from claimtype.api import create_app
from claimtype.batch import score
from claimtype.batch.engines import PoolEngine
from claimtype.batch.ray import RayEngine
from claimtype.batch.writers import write_output
from claimtype.cli import main
from claimtype.settings import Settings
settings = Settings(model=sys.argv[1])
with TestClient(create_app(settings)) as client:
    r = client.post("/v1/classify", json={"texts": ["the union said the port would close"]})
    assert r.status_code == 200, r.text
    assert client.get("/").status_code == 200
assert main(["predict", "--model", sys.argv[1], "the mayor offered to rebuild the bridge"]) == 0
assert main(["models", "--models", sys.argv[1]]) == 0
# the training side's command list is the one part of it a runtime command may load
allowed = {"claimtype.training", "claimtype.training.cli"}
heavy = sorted(
    m for m in sys.modules
    if m.split(".")[0] in ("torch", "transformers")
    or (m.startswith("claimtype.training") and m not in allowed)
)
print(json.dumps(heavy))
"""


def test_serving_loads_no_torch_transformers_or_training(tiny_model_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(tiny_model_dir)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_help_is_instant_and_light() -> None:
    code = (
        "import sys; from claimtype.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('onnxruntime','torch','fastapi','numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stderr


RUNTIME_MODULES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "serving").rglob("*.py"))
TRAINING_IMPORTS = re.compile(
    r"^\s*(from|import)\s+(\.+training|claimtype\.training|training)\b", re.M
)


@pytest.mark.parametrize("module", RUNTIME_MODULES)
def test_serving_sources_do_not_import_training(module: str) -> None:
    assert not TRAINING_IMPORTS.search((ROOT / module).read_text())


def test_only_claimtype_is_importable(tmp_path: Path) -> None:
    """The install adds one import name: `serving` and `training` are folders, not packages."""
    code = (
        "import importlib.util, json; print(json.dumps({n: importlib.util.find_spec(n) is not None"
        " for n in ('claimtype', 'claimtype.training', 'serving', 'training')}))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert found == {
        "claimtype": True,
        "claimtype.training": True,
        "serving": False,
        "training": False,
    }


def test_every_package_folder_is_listed_for_the_wheel() -> None:
    """Packages are listed, not discovered: a sub-package missing from the list is not installed."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {"claimtype": ROOT / "serving", "claimtype.training": ROOT / "training"}
    found = {
        ".".join([name, *init.parent.relative_to(root).parts])
        for name, root in folders.items()
        for init in root.rglob("__init__.py")
    }
    assert found <= set(setuptools["packages"]), sorted(found - set(setuptools["packages"]))


def test_the_wheel_carries_every_file_the_shipped_manifest_lists() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    shipped = ROOT / setuptools["package-dir"]["claimtype.shipped_model"]
    patterns = setuptools["package-data"]["claimtype.shipped_model"]
    listed = json.loads((shipped / "manifest.json").read_text())["files"]
    assert all(any(fnmatch(name, p) for p in patterns) for name in listed), patterns
    assert not any(fnmatch("model.onnx", p) for p in patterns)  # the fp32 graph stays out
