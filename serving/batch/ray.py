"""The Ray engine: the same shard scoring, spread over a Ray cluster with Ray Data.

Shards go through `Dataset.map_batches` one at a time (batch_size=1) to an
actor pool; each actor loads the ONNX session once and scores whole shards with
`score_shard`, exactly as the local engines do, so the rows are the same. The
driver feeds shards in windows, so an archive of any size never sits in the
object store at once, and it writes the shard files itself: resume and assembly
are shared with the local engine. Needs the `ray` extra.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

import numpy as np

from ..extras import install_hint
from ..predictor import Predictor
from .scoring import score_shard
from .shards import Shard, ShardResult

__all__ = ["RAY_EXTRA", "RayEngine"]

RAY_EXTRA = f"--engine ray needs Ray: {install_hint('ray')}"


class _ShardScorer:
    """A Ray Data actor: one predictor, loaded once, scoring pickled shards."""

    def __init__(self, factory: Callable[[], Predictor], split: bool) -> None:
        self.predictor = factory()
        self.split = split

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        results = [
            pickle.dumps(score_shard(pickle.loads(blob), self.predictor, self.split))
            for blob in batch["shard"]
        ]
        return {"result": np.array(results, dtype=object)}


class RayEngine:
    """Score shards on `workers` Ray actors (each with `factory()`'s predictor).

    Connects to the cluster in RAY_ADDRESS, or to one already started with
    `ray.init()` in this process, or starts a local one.
    """

    def __init__(
        self, factory: Callable[[], Predictor], workers: int, window: int | None = None
    ) -> None:
        try:
            import ray
        except ImportError:
            raise ImportError(RAY_EXTRA) from None
        self.ray = ray
        self.factory = factory
        self.workers = workers
        self.window = window or 16 * workers

    def run(self, shards: Iterable[Shard], split: bool) -> Iterator[ShardResult]:
        if not self.ray.is_initialized():
            self.ray.init(ignore_reinit_error=True, log_to_driver=False)
        shards = iter(shards)
        while window := list(islice(shards, self.window)):
            dataset = self.ray.data.from_items([{"shard": pickle.dumps(s)} for s in window])
            scored = dataset.map_batches(
                _ShardScorer,
                fn_constructor_args=(self.factory, split),
                batch_size=1,
                concurrency=min(self.workers, len(window)),
                num_cpus=1,
            )
            for row in scored.iter_rows():
                yield pickle.loads(row["result"])
