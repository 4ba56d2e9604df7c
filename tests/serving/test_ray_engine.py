"""The Ray engine (Ray Data, actor pool) writes exactly what the local engine writes."""

import json
from pathlib import Path

import pytest

from claimtype.batch import ScoreOptions, score
from claimtype.batch.engines import InlineEngine, PredictorSpec

ray = pytest.importorskip("ray", reason="the ray extra is not installed")


@pytest.fixture(scope="module")
def local_ray():  # type: ignore[no-untyped-def]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_output_equals_the_local_engine(
    tmp_path: Path, tiny_model_dir: Path, local_ray: None
) -> None:
    from claimtype.batch.ray import RayEngine

    source = tmp_path / "archive.jsonl"
    words = ["the union said the port would close", "the mayor offered to rebuild the bridge"]
    with source.open("w") as fh:
        for i in range(30):
            text = f"{words[i % 2].capitalize()}. {words[(i + 1) % 2].capitalize()} in oslo."
            fh.write(json.dumps({"id": i, "text": text}) + "\n")
        fh.write("not json\n")
    spec = PredictorSpec(tiny_model_dir, threads=1)
    options = ScoreOptions(shard_size=4, summary=tmp_path / "summary.jsonl")
    local = score([source], tmp_path / "local.jsonl", InlineEngine(spec()), options)
    options = ScoreOptions(shard_size=4, summary=tmp_path / "ray-summary.jsonl")
    remote = score([source], tmp_path / "ray.jsonl", RayEngine(spec, 2, window=3), options)
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    assert (tmp_path / "ray-summary.jsonl").read_bytes() == (
        tmp_path / "summary.jsonl"
    ).read_bytes()
    assert remote.rows == local.rows == 60 and remote.errors == local.errors
