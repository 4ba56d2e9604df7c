"""The Ray engine: the same shard scoring, spread over the nodes of a Ray cluster.

The driver reads the model directory once and puts its files in Ray's object
store; each actor writes them to a folder of its own on its node and loads
them there, so a node needs no copy of the driver's disk (no shared storage).
The actors live for the whole run, each loading the model once, and score whole
shards with `score_shard`, exactly as the local engines do, so the rows are the
same. The driver keeps at most `window` shards in flight, so an archive of any
size never sits in the object store at once, and it writes the shard files
itself: resume and assembly are shared with the local engine.

Without RAY_ADDRESS (or a `ray.init()` already made in this process) a local
Ray is started for the run and stopped at the end, its session files in
`temp_dir` (`--ray-temp-dir`, CLAIMTYPE_RAY_TEMP_DIR; default a fresh folder,
removed afterwards) rather than Ray's default /tmp/ray. Needs the `ray` extra.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..artefact import MANIFEST, load_model_dir
from ..extras import install_hint
from .engines import PredictorSpec
from .scoring import score_shard
from .shards import Shard, ShardResult

__all__ = ["RAY_EXTRA", "RayEngine", "model_files", "write_model_files"]

RAY_EXTRA = f"--engine ray needs Ray: {install_hint('ray')}"


def model_files(spec: PredictorSpec) -> dict[str, bytes]:
    """What a node needs to load `spec`'s model: the manifest, what it lists, the ONNX graph."""
    model_dir = load_model_dir(spec.model, spec.precision)  # verified once, on the driver
    names = {MANIFEST, *model_dir.manifest.files, model_dir.onnx_path.name}
    return {name: (model_dir.path / name).read_bytes() for name in sorted(names)}


def write_model_files(files: dict[str, bytes], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return directory


class _ShardScorer:
    """A Ray actor: the shipped model written to its own folder, loaded once, scoring shards."""

    def __init__(self, files: dict[str, bytes], spec: PredictorSpec, split: bool) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="claimtype-model-"))
        self.predictor = replace(spec, model=write_model_files(files, self.folder))()
        self.split = split

    def score(self, shard: Shard) -> ShardResult:
        return score_shard(shard, self.predictor, self.split)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class RayEngine:
    """Score shards on `workers` Ray actors, one CPU each, each with `spec`'s model."""

    def __init__(
        self,
        spec: PredictorSpec,
        workers: int,
        window: int | None = None,
        temp_dir: Path | None = None,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise ImportError(RAY_EXTRA) from None
        self.ray: Any = ray  # untyped
        self.spec = spec
        self.workers = workers
        self.window = window or 4 * workers
        self.temp_dir = temp_dir

    def _start(self) -> Path | bool:
        """Connect to Ray or start it: False when it was running, else what to clean up.

        A Ray started here keeps its session files under `temp_dir` (default: a fresh
        folder, removed afterwards), not in the /tmp/ray that every user shares.
        """
        if self.ray.is_initialized():
            return False
        # Ray's start-up chatter (its INFO lines, the token-auth notice) is not the job's output
        options: dict[str, Any] = {
            "log_to_driver": False,
            "include_dashboard": False,
            "logging_level": logging.ERROR,
        }
        if "RAY_ADDRESS" in os.environ:
            self.ray.init(**options)
            return True
        temp = self.temp_dir or Path(tempfile.mkdtemp(prefix="claimtype-ray-"))
        temp.mkdir(parents=True, exist_ok=True)
        self.ray.init(_temp_dir=str(temp.resolve()), **options)
        return temp if self.temp_dir is None else True

    def run(self, shards: Iterable[Shard], split: bool) -> Iterator[ShardResult]:
        started = self._start()
        files = self.ray.put(model_files(self.spec))
        # the actors get the model's files, never the driver's path to them
        shipped = replace(self.spec, model=Path("shipped"))
        actor = self.ray.remote(num_cpus=1)(_ShardScorer)
        actors = [actor.remote(files, shipped, split) for _ in range(self.workers)]
        try:
            yield from self._score(actors, shards)
        finally:
            self.ray.get([a.close.remote() for a in actors])
            for a in actors:
                self.ray.kill(a)
            if started:
                self.ray.shutdown()
            if isinstance(started, Path):
                shutil.rmtree(started, ignore_errors=True)

    def _score(self, actors: list[Any], shards: Iterable[Shard]) -> Iterator[ShardResult]:
        """Shards to the actors in turn (each runs its calls in order), `window` in flight."""
        pending: list[Any] = []
        for shard, worker in zip(shards, itertools.cycle(actors)):
            if len(pending) >= self.window:
                yield self._next(pending)
            pending.append(worker.score.remote(shard))
        while pending:
            yield self._next(pending)

    def _next(self, pending: list[Any]) -> ShardResult:
        (done,), _ = self.ray.wait(pending, num_returns=1)
        pending.remove(done)
        result: ShardResult = self.ray.get(done)
        return result
