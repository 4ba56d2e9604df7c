"""Micro-batching: concurrent requests share one ONNX Runtime call.

One worker task takes whatever requests are queued (up to `max_batch` texts)
and runs them together on a single inference thread; the predictor sorts the
texts by length, so the batch carries little padding. When the previous batch
was a single request (a quiet server) it does not wait for company, so a lone
caller pays no batching delay; under load it waits up to `max_wait_ms` to fill
the batch.

The batcher owns the predictor it runs. `swap` hands it a new one and returns
the old one once no batch uses it any more: batches already running finish on
the model they started with, and after that nothing in here refers to it, so a
reload frees the old model instead of keeping every one ever loaded. Results
carry the name of the model that computed them, which after a swap may not be
the one now being served.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..predictor import Predictor
from ..schemas import Prediction

__all__ = ["MicroBatcher", "Scored"]

_Item = tuple[Sequence[str], "asyncio.Future[Scored]"]


@dataclass(frozen=True)
class Scored:
    """Predictions for one request's texts, in order, and the model that made them."""

    model: str
    predictions: list[Prediction]


class MicroBatcher:
    def __init__(
        self,
        predictor: Predictor,
        max_batch: int = 64,
        max_wait_ms: float = 2.0,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._predictor = predictor
        self._running: Predictor | None = None  # the predictor of the batch in flight
        self._finished = asyncio.Condition()
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self.on_batch = on_batch
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="claimtype-infer")
        self._task: asyncio.Task[None] | None = None
        self._busy = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Finish what is queued, then stop the worker."""
        while not self._queue.empty():
            await asyncio.sleep(0.005)
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._executor.shutdown(wait=True)

    @property
    def model(self) -> str:
        """The name of the model that new requests go to."""
        return self._predictor.name

    async def swap(self, predictor: Predictor) -> Predictor:
        """Run `predictor` from the next batch on; return the old one once no batch uses it."""
        old, self._predictor = self._predictor, predictor
        async with self._finished:
            await self._finished.wait_for(lambda: self._running is not old)
        return old

    async def predict(self, texts: Sequence[str]) -> Scored:
        future: asyncio.Future[Scored] = asyncio.get_running_loop().create_future()
        await self._queue.put((texts, future))
        return await future

    async def _collect(self) -> list[_Item]:
        items = [await self._queue.get()]
        size = len(items[0][0])
        deadline = time.monotonic() + (self.max_wait if self._busy else 0.0)
        while size < self.max_batch:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self._queue.get(), remaining)
                except TimeoutError:
                    break
            items.append(item)
            size += len(item[0])
        self._busy = len(items) > 1
        return items

    async def _run(self) -> None:
        while True:
            await self._run_batch(await self._collect())

    async def _run_batch(self, items: list[_Item]) -> None:
        """One model call; its references to the predictor end when it returns."""
        texts = [t for batch, _ in items for t in batch]
        predictor = self._running = self._predictor  # read per batch: swap changes it between
        try:
            predictions = await asyncio.get_running_loop().run_in_executor(
                self._executor, predictor.predict, texts
            )
        except Exception as exc:
            for _, future in items:
                if not future.done():
                    future.set_exception(exc)
            return
        finally:
            async with self._finished:
                self._running = None
                self._finished.notify_all()
        if self.on_batch:
            self.on_batch(len(texts))
        start = 0
        for batch, future in items:
            if not future.done():
                future.set_result(Scored(predictor.name, predictions[start : start + len(batch)]))
            start += len(batch)
