"""Micro-batching: concurrent requests share one ONNX Runtime call.

One worker task takes whatever requests are queued (up to `max_batch` texts)
and runs them together on a single inference thread; the predictor sorts the
texts by length, so the batch carries little padding. When the previous batch
was a single request (a quiet server) it does not wait for company, so a lone
caller pays no batching delay; under load it waits up to `max_wait_ms` to fill
the batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from serving.predictor import Predictor
from serving.schemas import Prediction

__all__ = ["MicroBatcher"]

_Item = tuple[Sequence[str], asyncio.Future]


class MicroBatcher:
    def __init__(
        self,
        get_predictor: Callable[[], Predictor],
        max_batch: int = 64,
        max_wait_ms: float = 2.0,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.get_predictor = get_predictor
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self.on_batch = on_batch
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="claimtype-infer")
        self._task: asyncio.Task | None = None
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

    async def predict(self, texts: Sequence[str]) -> list[Prediction]:
        future: asyncio.Future = asyncio.get_running_loop().create_future()
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
        loop = asyncio.get_running_loop()
        while True:
            items = await self._collect()
            texts = [t for batch, _ in items for t in batch]
            predictor = self.get_predictor()  # read per batch: a reload swaps it between batches
            try:
                predictions = await loop.run_in_executor(self._executor, predictor.predict, texts)
            except Exception as exc:
                for _, future in items:
                    if not future.done():
                        future.set_exception(exc)
                continue
            if self.on_batch:
                self.on_batch(len(texts))
            start = 0
            for batch, future in items:
                if not future.done():
                    future.set_result(predictions[start : start + len(batch)])
                start += len(batch)
