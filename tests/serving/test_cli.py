"""The CLI fails with one clear line: exit 3 for a bad model directory, quiet on a closed pipe."""

import subprocess
import sys
from pathlib import Path

import pytest

from claimtype.cli import main

ROOT = Path(__file__).resolve().parents[2]


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


def test_a_reader_that_leaves_early_is_not_an_error(tiny_model_dir: Path) -> None:
    # `claimtype predict < many.txt | head -1`: far more output than a pipe buffers
    texts = "".join(f"the mayor of town {i} said the bridge would close\n" for i in range(3000))
    cmd = [sys.executable, "-m", "claimtype.cli", "predict", "--model", str(tiny_model_dir)]
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    job = subprocess.Popen(cmd, cwd=ROOT, text=True, **pipes)
    assert job.stdin and job.stdout and job.stderr
    job.stdin.write(texts)
    job.stdin.close()
    assert job.stdout.readline()
    job.stdout.close()
    assert job.wait(timeout=60) == 141
    assert "Traceback" not in job.stderr.read()


def test_evaluate_prints_both_baselines_and_writes_a_reliability_diagram(
    tiny_model_dir: Path, tiny_config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("sklearn")
    png = tmp_path / "reliability.png"
    argv = ["evaluate", str(tiny_config.dev_file), "--model", str(tiny_model_dir),
            "--baseline", "--bow", "--train-file", str(tiny_config.train_file),
            "--reliability", str(png)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "cue-word baseline" in out and "bag-of-words baseline" in out
    assert "evidence spans (48 marked sentences)" in out and "cue     exact F1" in out
    assert png.stat().st_size > 1000


def test_predict_shows_the_evidence_after_the_text(
    tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "the union said the port in lima would close"
    assert main(["predict", "--model", str(tiny_model_dir), text, "the army opened a mine"]) == 0
    said, opened = capsys.readouterr().out.splitlines()
    assert said.startswith("claim") and said.endswith(f"{text}  [source: the union; cue: said]")
    assert opened.startswith("fact") and opened.endswith("the army opened a mine")
    from claimtype.cli.predict import _evidence
    from tests.fakes import FakePredictor

    (denied,) = FakePredictor().predict(["The mayor denied it."])
    assert _evidence(denied) == "  [source: The mayor; cue: denied]"


def test_score_counts_in_words_a_reader_expects(
    tiny_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.txt").write_text("The union said the port would close.")
    out = tmp_path / "out.jsonl"
    assert (
        main(["score", str(tmp_path / "a.txt"), "--out", str(out), "--model", str(tiny_model_dir)])
        == 0
    )
    err = capsys.readouterr().err
    assert "scored 1 sentence of 1 article into" in err and "(1 shard, 0 resumed)" in err
