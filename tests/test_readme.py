"""Every Python example in the README runs (with the shipped model, so marked `model`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def python_examples() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.M | re.S)


def test_the_readme_has_python_examples() -> None:
    assert len(python_examples()) >= 2


@pytest.mark.model
def test_python_examples_run_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pandas")
    monkeypatch.chdir(tmp_path)  # load() must not need the checkout as working directory
    namespace: dict[str, object] = {}
    for code in python_examples():
        exec(compile(code, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    assert "claimtype.Classifier" in out and "doc_id" in out
