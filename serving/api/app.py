"""The app factory: settings, middleware, routes; the model loads once, in the lifespan.

`create_app(settings, predictor)` takes a ready predictor in tests and from
`claimtype serve`; otherwise the lifespan loads and verifies the model
directory and the server refuses to start on a bad one. Everything a route
needs is on `app.state` and reaches it through the dependencies in deps.py, so
nothing is created at import time and no route closes over the factory.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ..feedback import FeedbackStore
from ..predictor import Predictor
from ..schemas import ErrorResponse
from ..settings import Settings
from .auth import Access, KeyCheck
from .errors import install_error_handlers
from .middleware import BodyLimit, Observe
from .observability import ApiMetrics, configure_logging
from .paths import public_paths
from .reloading import ServedModel
from .routes import admin, classify, feedback, ops
from .viewer import viewer_router

__all__ = ["create_app"]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load (or adopt) the model, reload it on SIGHUP, close it on the way out."""
    state = app.state
    # handed over once: a reference kept on the app would hold the first model alive
    # for as long as the app, however many reloads replaced it
    predictor, state.handover = state.handover, None
    served = await ServedModel.open(state.settings, predictor, state.metrics, state.logger)
    del predictor
    state.served = served
    loop = asyncio.get_running_loop()
    # not the main thread (tests) or no signals on this platform: no SIGHUP reload
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGHUP, served.on_sighup)
    state.logger.info("serving", extra={"event": "start", "model": served.batcher.model})
    yield
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.remove_signal_handler(signal.SIGHUP)
    await served.close()


def create_app(settings: Settings | None = None, predictor: Predictor | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title="claimtype",
        summary="Is a news sentence a confirmed fact, an attributed claim, a denial or an offer?",
        version="1",
        lifespan=lifespan,
        responses={code: {"model": ErrorResponse} for code in (400, 401, 413, 415, 422)},
    )
    app.state.settings, app.state.handover = settings, predictor
    app.state.metrics = ApiMetrics()
    app.state.logger = configure_logging(settings.log_json)
    app.state.feedback = FeedbackStore(settings.feedback_db)
    # outermost last: Observe logs every answer, KeyCheck refuses before BodyLimit reads
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    access = Access.from_keys(settings.keys(), settings.admin(), public_paths(settings, app))
    app.add_middleware(KeyCheck, access=access)
    app.add_middleware(
        Observe, metrics=app.state.metrics, logger=app.state.logger, routes=app.router.routes
    )
    install_error_handlers(app)
    for module in (ops, classify, feedback, admin):
        app.include_router(module.router)
    if settings.viewer:
        app.include_router(viewer_router())
    return app
