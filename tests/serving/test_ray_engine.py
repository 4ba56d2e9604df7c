"""The Ray engine (actors on a Ray cluster) writes exactly what the local engine writes."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from claimtype.artefact import load_model_dir
from claimtype.batch import ScoreOptions, score
from claimtype.batch.engines import InlineEngine, PredictorSpec

ray = pytest.importorskip("ray", reason="the ray extra is not installed")


@pytest.fixture(autouse=True)
def _one_auth_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Ray in this process without token auth: a driver that met one with a token
    (Ray's default for a local start) cannot then talk to a cluster without one."""
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")


def write_archive(path: Path, n: int = 30) -> Path:
    words = ["the union said the port would close", "the mayor offered to rebuild the bridge"]
    with path.open("w") as fh:
        for i in range(n):
            text = f"{words[i % 2].capitalize()}. {words[(i + 1) % 2].capitalize()} in oslo."
            fh.write(json.dumps({"id": i, "text": text}) + "\n")
        fh.write("not json\n")
    return path


def same_output_as_local(tmp_path: Path, model: Path, engine_args: dict[str, object]) -> None:
    from claimtype.batch.ray import RayEngine

    source = write_archive(tmp_path / "archive.jsonl")
    spec = PredictorSpec(model, threads=1)
    options = ScoreOptions(shard_size=4, summary=tmp_path / "summary.jsonl")
    local = score([source], tmp_path / "local.jsonl", InlineEngine(spec()), options)
    options = ScoreOptions(shard_size=4, summary=tmp_path / "ray-summary.jsonl")
    engine = RayEngine(spec, 2, **engine_args)
    remote = score([source], tmp_path / "ray.jsonl", engine, options)
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    summary = (tmp_path / "ray-summary.jsonl").read_bytes()
    assert summary == (tmp_path / "summary.jsonl").read_bytes()
    assert remote.rows == local.rows == 60 and remote.errors == local.errors


def test_model_files_load_anywhere(tiny_model_dir: Path, tmp_path: Path) -> None:
    from claimtype.batch.ray import model_files, write_model_files

    files = model_files(PredictorSpec(tiny_model_dir))
    assert "model.onnx" not in files  # the int8 run ships the int8 graph only
    copy = write_model_files(files, tmp_path / "elsewhere")
    assert load_model_dir(copy).manifest == load_model_dir(tiny_model_dir).manifest


def test_ray_output_equals_the_local_engine_and_leaves_no_ray_folder(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    temp = Path(tempfile.mkdtemp(prefix="ct-ray-"))  # short: Ray's socket paths must fit 107 bytes
    try:
        same_output_as_local(tmp_path, tiny_model_dir, {"window": 3, "temp_dir": temp})
        assert any(temp.iterdir())  # Ray's session went here, not to /tmp/ray
        assert not ray.is_initialized()  # the engine started it, so it stopped it
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def two_node_cluster() -> Iterator[str]:
    """`ray start --head` and a second node joining it: one CPU each."""
    temp = Path(tempfile.mkdtemp(prefix="ct-ray2-"))
    ray_cli = str(Path(sys.executable).with_name("ray"))
    address = f"127.0.0.1:{_free_port()}"
    common = ["--num-cpus=1", "--disable-usage-stats"]
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    try:
        head = [ray_cli, "start", "--head", f"--port={address.split(':')[1]}", *common]
        head += [f"--temp-dir={temp}", "--include-dashboard=false"]
        subprocess.run(head, env=env, check=True, capture_output=True)
        join = [ray_cli, "start", f"--address={address}", *common]
        subprocess.run(join, env=env, check=True, capture_output=True)
        yield address
    finally:
        subprocess.run([ray_cli, "stop", "--force"], env=env, capture_output=True)
        shutil.rmtree(temp, ignore_errors=True)


def test_two_nodes_score_like_the_local_engine(
    tmp_path: Path, tiny_model_dir: Path, two_node_cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAY_ADDRESS", two_node_cluster)
    ray.init(address=two_node_cluster, log_to_driver=False)
    try:
        assert len([n for n in ray.nodes() if n["Alive"]]) == 2  # two actors: one on each
    finally:
        ray.shutdown()
    same_output_as_local(tmp_path, tiny_model_dir, {"window": 3})


class _Done:
    def __init__(self, value: object) -> None:
        self.value = value


class _FakeRay:
    """Ray's calls, run in this process: records how actors are made and what they are given."""

    def __init__(self) -> None:
        self.actors: list[tuple[object, ...]] = []

    def is_initialized(self) -> bool:
        return True

    def put(self, value: object) -> _Done:
        return _Done(value)

    def remote(self, **_: object):  # type: ignore[no-untyped-def]
        fake = self

        def wrap(cls):  # type: ignore[no-untyped-def]
            class Handle:
                def __init__(self, *args: object) -> None:
                    fake.actors.append(args)
                    values = [a.value if isinstance(a, _Done) else a for a in args]
                    self.actor = cls(*values)

                def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
                    method = getattr(self.actor, name)
                    return type("M", (), {"remote": staticmethod(lambda *a: _Done(method(*a)))})

            return type("Remote", (), {"remote": staticmethod(Handle)})

        return wrap

    def wait(self, refs: list[_Done], num_returns: int) -> tuple[list[_Done], list[_Done]]:
        return refs[:num_returns], refs[num_returns:]

    def get(self, ref: object) -> object:
        return [r.value for r in ref] if isinstance(ref, list) else ref.value  # type: ignore[attr-defined]

    def kill(self, actor: object) -> None:
        pass


def test_actors_load_the_model_once_from_shipped_files_not_the_drivers_path(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    from claimtype.batch.ray import RayEngine

    source = write_archive(tmp_path / "archive.jsonl")
    spec = PredictorSpec(tiny_model_dir, threads=1)
    engine = RayEngine(spec, 2, window=3)  # 8 shards: three windows' worth
    engine.ray = fake = _FakeRay()
    local = score(
        [source], tmp_path / "local.jsonl", InlineEngine(spec()), ScoreOptions(shard_size=4)
    )
    remote = score([source], tmp_path / "ray.jsonl", engine, ScoreOptions(shard_size=4))
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    assert remote.rows == local.rows
    assert len(fake.actors) == 2  # one per worker for the whole run, not per window
    assert str(tiny_model_dir) not in repr(fake.actors)  # a node gets files, not a path
