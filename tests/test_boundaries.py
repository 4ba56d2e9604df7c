"""The runtime never loads torch, transformers or the training package."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
from fastapi.testclient import TestClient
from claimtype.api import create_app
from claimtype.batch import score
from claimtype.engines import PoolEngine
from claimtype.ray_engine import RayEngine
from claimtype.writers import write_output
from claimtype.cli import main
from claimtype.settings import Settings
settings = Settings(model=sys.argv[1])
with TestClient(create_app(settings)) as client:
    r = client.post("/v1/classify", json={"texts": ["the union said the port would close"]})
    assert r.status_code == 200, r.text
    assert client.get("/").status_code == 200
assert main(["predict", "--model", sys.argv[1], "the mayor offered to rebuild the bridge"]) == 0
assert main(["models", "--models", sys.argv[1]]) == 0
heavy = sorted(
    m for m in sys.modules
    if m.split(".")[0] in ("torch", "transformers") or m.startswith("claimtype.training")
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


RUNTIME_MODULES = sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "serving").rglob("*.py") if p.name != "cli.py"
)
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
