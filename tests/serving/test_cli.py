"""The CLI refuses a bad model directory with one clear line and exit status 3."""

from pathlib import Path

import pytest

from serving.cli import main


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["predict", "x"]])
def test_bad_model_directory_exits_3(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*command, "--model", str(tmp_path / "missing")]) == 3
    assert "no such model directory" in capsys.readouterr().err


def test_corrupt_model_refused_before_serving(
    fresh_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (fresh_model_dir / "tokenizer.json").write_text("{}")
    assert main(["serve", "--port", "0", "--model", str(fresh_model_dir)]) == 3
    assert "sha256" in capsys.readouterr().err
