"""The API and CLI stay readable: no function in them over 40 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 40
PACKAGES = [ROOT / "serving" / "api", ROOT / "serving" / "cli", ROOT / "training" / "cli.py"]


def long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > LIMIT
    ]


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_function_over_40_lines(package: Path) -> None:
    paths = [package] if package.is_file() else sorted(package.rglob("*.py"))
    found = [f for path in paths for f in long_functions(path)]
    assert not found, found
