"""The served model: load and verify it, swap a new one in, let the old one go.

A reload (SIGHUP or POST /v1/admin/reload) builds the new predictor beside the
old one and warms it up; the batcher then runs it from its next batch on, while
batches already running finish on the old model. A directory that fails
verification is refused and the old model keeps serving.

A server runs for months, so a reload must give the old model's memory back.
Once the batcher returns the old predictor nothing refers to it (not app.state,
not a closure, not the metrics), so it is freed there and then. glibc's malloc
still keeps most of an ONNX Runtime session's freed pages, and under load RSS
climbed by tens of MB a reload, so the heap is trimmed after each swap. Loading
runs on one dedicated thread, so that every load allocates from the same malloc
arena instead of whichever executor thread was free.

What a reload loads: the directory it names, else the one being served. A
server started without --model/CLAIMTYPE_MODEL serves the default (the
registry's current version, or the shipped model) and looks it up afresh on
every reload, which is how SIGHUP picks up `claimtype promote` and `rollback`.
A reload that names a directory keeps serving that directory on later reloads,
unless it is the registry's current one (what `claimtype promote --reload`
sends): then the server goes on following the registry.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from ..artefact import ModelDirError, load_model_dir
from ..labels import DEFINITIONS, LABELS
from ..predictor import OnnxPredictor, Predictor
from ..schemas import LabelInfo, ModelInfo
from ..settings import Settings, default_model_dir
from .batcher import MicroBatcher
from .observability import ApiMetrics

__all__ = ["ServedModel", "load_predictor", "model_info"]

T = TypeVar("T")


def load_predictor(settings: Settings, path: Path | None = None) -> OnnxPredictor:
    model_dir = load_model_dir(path or settings.model_path(), settings.precision)
    return OnnxPredictor(
        model_dir, threads=settings.threads, batch_size=settings.batch_size, spin=settings.spin
    )


def model_info(predictor: Predictor) -> ModelInfo | None:
    model_dir = getattr(predictor, "model_dir", None)
    if model_dir is None:
        return None
    m = model_dir.manifest
    return ModelInfo(
        name=m.name,
        version=m.version,
        precision=model_dir.precision,
        precisions=model_dir.precisions,
        labels=[LabelInfo(name=k, definition=DEFINITIONS[k]) for k in LABELS],
        max_length=m.max_length,
        temperature=m.temperature,
        files=model_dir.files(),
        metrics=model_dir.metrics(),
    )


def trim_heap() -> None:
    """Hand freed heap pages back to the OS: glibc's malloc_trim; elsewhere nothing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


class ServedModel:
    """The model being served, its batcher, and how to reload it."""

    def __init__(
        self,
        settings: Settings,
        batcher: MicroBatcher,
        metrics: ApiMetrics,
        logger: logging.Logger,
        loader: ThreadPoolExecutor,
    ) -> None:
        self.settings = settings
        self.batcher = batcher
        self.metrics = metrics
        self.logger = logger
        self.info: ModelInfo | None = None
        #: what a reload without a directory loads; None: the default, looked up afresh
        self.source = settings.named_model()
        self._loader = loader
        self._lock = asyncio.Lock()
        self._signal_reloads: set[asyncio.Task[None]] = set()

    @classmethod
    async def open(
        cls,
        settings: Settings,
        predictor: Predictor | None,
        metrics: ApiMetrics,
        logger: logging.Logger,
    ) -> ServedModel:
        """Start serving `predictor`, or the model the settings name when it is None."""
        loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="claimtype-load")
        if predictor is None:
            predictor = await asyncio.get_running_loop().run_in_executor(
                loader, load_predictor, settings, None
            )
        batcher = MicroBatcher(
            predictor, settings.max_batch, settings.max_wait_ms, metrics.batch_size.observe
        )
        served = cls(settings, batcher, metrics, logger, loader)
        served.info = model_info(predictor)
        metrics.set_model(predictor.name)
        batcher.start()
        return served

    async def close(self) -> None:
        await self.batcher.stop()
        self._loader.shutdown(wait=True)

    async def _on_loader(self, func: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._loader, func, *args)

    def _load(self, path: Path) -> OnnxPredictor:
        predictor = load_predictor(self.settings, path)
        predictor.predict(["The model is ready."])  # fail here, not on a user's request
        return predictor

    def _source_after(self, named: Path) -> Path | None:
        """What later reloads load after one that named `named`; None follows the registry."""
        with contextlib.suppress(ModelDirError, OSError):  # unreadable registry: keep `named`
            if named.resolve() == default_model_dir().resolve():
                return None
        return named

    async def reload(self, path: Path | None = None, trigger: str = "admin") -> ModelInfo | None:
        """Load `path` (default: what is served now), verify it, swap it in, free the old one."""
        async with self._lock:
            source = self.source if path is None else self._source_after(path)
            target = source or default_model_dir()
            new = await self._on_loader(self._load, target)
            name, info = new.name, model_info(new)
            # info and metrics change in the same step as the batcher's predictor (swap's first
            # line), not once batches still running on the old model finish: /v1/model names
            # the model that new requests get
            self.info, self.source = info, source
            self.metrics.set_model(name)
            old = await self.batcher.swap(new)
            del new, old  # the last references: the old session is freed here
            await self._on_loader(trim_heap)
            self.logger.info(
                f"model reloaded ({trigger}) from {target}",
                extra={"event": "reload", "model": name, "source": str(target)},
            )
            return info

    def on_sighup(self) -> None:
        """Signal handler: reload in the background, log a refusal rather than raise it."""

        async def run() -> None:
            try:
                await self.reload(trigger="SIGHUP")
            except Exception as exc:  # a bad directory or registry: keep serving the old model
                self.logger.error(
                    f"reload refused, still serving the old model: {exc}",
                    extra={"event": "reload_refused"},
                )

        task = asyncio.get_running_loop().create_task(run())
        self._signal_reloads.add(task)
        task.add_done_callback(self._signal_reloads.discard)
