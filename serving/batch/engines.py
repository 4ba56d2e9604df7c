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
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal, Protocol

from ..artefact import Precision, load_model_dir
from ..predictor import OnnxPredictor, Predictor
from .scoring import score_shard
from .shards import Shard, ShardResult

__all__ = ["Engine", "InlineEngine", "PoolEngine", "PredictorSpec"]

Parallel = Literal["processes", "threads"]


@dataclass(frozen=True)
class PredictorSpec:
    """How to build an ONNX predictor, here or in a worker process: small and picklable.

    `threads` is ONNX Runtime's thread count for each batch in flight.
    """

    model: Path
    precision: Precision = "int8"
    threads: int = 1
    batch_size: int = 32

    def __call__(self, concurrency: int = 1) -> OnnxPredictor:
        """A predictor running `concurrency` batches at once, `threads` threads each.

        Concurrent runs share the session's one thread pool, and each calling
        thread computes too, so `threads` per run takes a pool of
        `threads * concurrency` less one thread per caller.
        """
        return OnnxPredictor(
            load_model_dir(self.model, self.precision),
            threads=self.threads * concurrency - (concurrency - 1),
            batch_size=self.batch_size,
            concurrency=concurrency,
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


#: a worker process's predictor, built once by `_start_worker`
_process_predictor: Predictor | None = None


def _start_worker(factory: Callable[[], Predictor]) -> None:
    global _process_predictor
    _process_predictor = factory()


def _score(shard: Shard, split: bool, predictor: Predictor | None = None) -> ShardResult:
    """Score with `predictor`, or in a worker process with the one it started with."""
    chosen = predictor or _process_predictor
    assert chosen is not None, "_start_worker has not run in this process"
    return score_shard(shard, chosen, split)


class PoolEngine:
    """Score shards on `workers` threads sharing one predictor, or on worker processes.

    Threads share one predictor built here from `spec` that runs `workers`
    batches at once; each process builds its own from `spec`. At most two
    shards per worker are in flight, so memory stays bounded however large the
    archive is. Processes start with `spawn`: forking a parent that has already
    run ONNX Runtime or tokenizers' thread pools is unsafe.
    """

    def __init__(self, spec: PredictorSpec, workers: int, parallel: Parallel = "threads") -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.spec = spec
        self.workers = workers
        self.parallel = parallel

    def run(self, shards: Iterable[Shard], split: bool) -> Iterator[ShardResult]:
        shared: OnnxPredictor | None = None
        executor: Executor
        if self.parallel == "threads":
            shared = self.spec(self.workers)
            executor = ThreadPoolExecutor(self.workers)
        else:
            executor = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.spec,),
            )
        work = partial(_score, predictor=shared)
        try:
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
        finally:
            if shared is not None:
                shared.close()
