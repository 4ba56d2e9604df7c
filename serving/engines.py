"""Local engines: where scored shards come from.

`InlineEngine` scores shards one after another in this process with a given
predictor (tests, one worker). `PoolEngine` spreads shards over worker threads
or processes; the main thread only reads, cuts shards and writes them. Threads
are the default: they share one ONNX Runtime session that runs as many batches
at once as there are workers, so every core has work until the last batch of
the last shard (a worker per shard would leave cores idle while the final shard
finishes). ONNX Runtime releases the GIL and the Python share of a sentence's
cost is a few percent, while processes pay a start-up, a model load and
pickling each; `docs/batch-scoring.md` has the measurement.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Literal, Protocol

from serving.artefact import Precision, load_model_dir
from serving.predictor import OnnxPredictor, Predictor
from serving.scoring import score_shard
from serving.shards import Shard, ShardResult

__all__ = ["Engine", "InlineEngine", "PoolEngine", "PredictorSpec", "cores"]

Parallel = Literal["processes", "threads"]


def cores() -> int:
    """Cores this process may run on (a container's share, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True)
class PredictorSpec:
    """How to build the ONNX predictor inside a worker: small and picklable."""

    model: Path
    precision: Precision = "int8"
    threads: int = 1
    batch_size: int = 32
    #: batches run at once on the one session (threads share a predictor)
    concurrency: int = 1

    def __call__(self) -> Predictor:
        model_dir = load_model_dir(self.model, self.precision)
        return OnnxPredictor(
            model_dir,
            threads=self.threads,
            batch_size=self.batch_size,
            concurrency=self.concurrency,
        )

    def identity(self) -> dict[str, object]:
        """What decides the scores: the model's files and the batch size (not threads)."""
        manifest = load_model_dir(self.model, self.precision).manifest
        onnx = manifest.onnx[self.precision]
        return {
            "model": f"{manifest.name}@{manifest.version}",
            "precision": self.precision,
            "onnx_sha256": manifest.files.get(onnx) or manifest.optional_files.get(onnx),
            "batch_size": self.batch_size,
        }


class Engine(Protocol):
    """Turns shards into scored shards, in any order."""

    def run(self, shards: Iterable[Shard], split: bool) -> Iterator[ShardResult]: ...


class InlineEngine:
    """Score in this process, shard after shard."""

    def __init__(self, predictor: Predictor) -> None:
        self.predictor = predictor

    def run(self, shards: Iterable[Shard], split: bool) -> Iterator[ShardResult]:
        for shard in shards:
            yield score_shard(shard, self.predictor, split)


_worker = threading.local()


def _start_worker(factory: Callable[[], Predictor]) -> None:
    _worker.predictor = factory()


def _score_in_worker(shard: Shard, split: bool) -> ShardResult:
    return score_shard(shard, _worker.predictor, split)


def _score(predictor: Predictor, shard: Shard, split: bool) -> ShardResult:
    return score_shard(shard, predictor, split)


class PoolEngine:
    """Score shards on `workers` threads sharing one predictor, or on worker processes.

    Threads share one session built from `spec` with `concurrency=workers`;
    each process builds its own from `spec`. At most two shards per worker are
    in flight, so memory stays bounded however large the archive is. Processes
    start with `spawn`: forking a parent that has already run ONNX Runtime or
    tokenizers' thread pools is unsafe.
    """

    def __init__(self, spec: PredictorSpec, workers: int, parallel: Parallel = "threads") -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.spec = spec
        self.workers = workers
        self.parallel = parallel

    def _executor(self) -> tuple[Executor, Callable[[Shard, bool], ShardResult]]:
        if self.parallel == "threads":
            predictor = replace(self.spec, concurrency=self.workers)()
            return ThreadPoolExecutor(self.workers), partial(_score, predictor)
        pool = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self.spec,),
        )
        return pool, _score_in_worker

    def run(self, shards: Iterable[Shard], split: bool) -> Iterator[ShardResult]:
        executor, work = self._executor()
        with executor as pool:
            running: set[Future[ShardResult]] = set()
            for shard in shards:
                if len(running) >= 2 * self.workers:
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    yield from (f.result() for f in done)
                running.add(pool.submit(work, shard, split))
            while running:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in done)
