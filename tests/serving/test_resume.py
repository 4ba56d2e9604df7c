"""Nothing lost, nothing twice: a scoring job SIGKILLed mid-way and resumed matches a clean run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from claimtype.batch.engines import InlineEngine, PoolEngine, PredictorSpec
from claimtype.batch.job import ScoreOptions, score, work_dir_for
from claimtype.batch.shards import JobMismatchError
from claimtype.files import atomic_file
from tests import tiny

ROOT = Path(__file__).resolve().parents[2]


def _archive(path: Path, articles: int) -> Path:
    rows = tiny.sentences(40, seed=3)
    with path.open("w") as fh:
        for i in range(articles):
            body = ". ".join(rows[(i * 5 + k) % len(rows)]["text"].capitalize() for k in range(5))
            fh.write(json.dumps({"id": f"doc{i}", "text": body + "."}) + "\n")
        fh.write("{a malformed line, reported in both runs\n")
    return path


def _cli(model: Path, source: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "claimtype.cli", "score", str(source), "--out", str(out),
        "--model", str(model), "--shard-size", "4", "--quiet", "--summary", f"{out}.summary.jsonl",
        *extra,
    ]  # fmt: skip


def test_sigkill_then_resume_gives_the_uninterrupted_output(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    source = _archive(tmp_path / "archive.jsonl", 1200)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    clean = tmp_path / "clean.jsonl"
    run = subprocess.run(_cli(tiny_model_dir, source, clean, "--workers", "1"), env=env, cwd=ROOT)
    assert run.returncode == 2  # the malformed line makes the run partial

    out = tmp_path / "killed.jsonl"
    work = work_dir_for(out)
    cmd = _cli(tiny_model_dir, source, out, "--workers", "2")
    job = subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(list(work.glob("shard-*.jsonl"))) < 3 and job.poll() is None:
            assert time.monotonic() < deadline, "no shard was written in time"
            time.sleep(0.005)
    finally:
        os.killpg(job.pid, signal.SIGKILL)  # the job and its worker processes
        job.wait()
    finished = len(list(work.glob("shard-*.jsonl")))
    assert job.returncode == -signal.SIGKILL and not out.exists()
    assert 3 <= finished < 301, "the job was not killed mid-way"

    (work / ".shard-00000299.jsonl.1.tmp").write_text('{"half": "written')  # a torn write
    resumed = subprocess.run([*cmd, "--resume"], env=env, cwd=ROOT, capture_output=True, text=True)
    assert resumed.returncode == 2, resumed.stderr
    assert f"{finished} resumed" in resumed.stderr
    assert out.read_bytes() == clean.read_bytes()
    for suffix in (".summary.jsonl", ".errors.jsonl"):
        assert Path(f"{out}{suffix}").read_bytes() == Path(f"{clean}{suffix}").read_bytes()
    assert not work.exists()
    rows = [json.loads(line) for line in out.open()]
    assert len({(r["doc_id"], r["sentence_index"]) for r in rows}) == len(rows) == 1200 * 5


def test_pool_engines_score_like_the_inline_engine(tmp_path: Path, tiny_model_dir: Path) -> None:
    source = _archive(tmp_path / "archive.jsonl", 40)
    spec = PredictorSpec(tiny_model_dir, threads=1)
    options = ScoreOptions(shard_size=3)
    outputs = []
    for name, engine in [
        ("inline", InlineEngine(spec())),
        ("threads", PoolEngine(spec, 2, "threads")),
        ("processes", PoolEngine(spec, 2, "processes")),
    ]:
        out = tmp_path / f"{name}.jsonl"
        score([source], out, engine, options, spec.identity())
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]


def test_resume_refuses_another_job_and_a_fresh_run_refuses_old_shards(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    source = _archive(tmp_path / "archive.jsonl", 12)
    out = tmp_path / "out.jsonl"
    spec = PredictorSpec(tiny_model_dir, threads=1)
    engine = InlineEngine(spec())
    report = score([source], out, engine, ScoreOptions(shard_size=4, keep_work=True))
    assert report.shards == 4 and work_dir_for(out).is_dir()
    with pytest.raises(JobMismatchError, match="--resume"):
        score([source], out, engine, ScoreOptions(shard_size=4))
    with pytest.raises(JobMismatchError, match="shard_size"):
        score([source], out, engine, ScoreOptions(shard_size=5, resume=True))
    with source.open("a") as fh:
        fh.write(json.dumps({"text": "One more article."}) + "\n")
    with pytest.raises(JobMismatchError, match="inputs"):
        score([source], out, engine, ScoreOptions(shard_size=4, resume=True))


def test_atomic_file_leaves_the_target_untouched_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_file(target) as fh:
        fh.write(b"half of the new")
        raise RuntimeError("killed")
    assert target.read_text() == "old\n" and list(tmp_path.iterdir()) == [target]
