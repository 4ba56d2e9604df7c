"""The REST API: an app factory, a model loaded once, thin typed routes.

`create_app(settings, predictor)` takes a ready predictor in tests and from
`claimtype serve`; otherwise the lifespan loads and verifies the model
directory and the server refuses to start on a bad one. Requests go through a
micro-batcher to a single inference thread. Reloads (SIGHUP or the admin route)
are serving/reloading.py's job; API keys are checked by serving/auth.py before
a route reads the body. The article viewer page (serving/viewer.py) is served at
`/` unless turned off.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .artefact import ModelDirError
from .auth import Access, KeyCheck
from .batcher import Scored
from .feedback import FeedbackStore
from .labels import LABELS
from .middleware import BodyLimit, Observe
from .observability import ApiMetrics, configure_logging
from .predictor import Predictor
from .reloading import ServedModel, load_predictor
from .schemas import (
    ArticleRequest,
    ArticleResponse,
    ArticleSentence,
    ClassifyRequest,
    ClassifyResponse,
    ErrorResponse,
    FeedbackRequest,
    FeedbackResponse,
    ModelInfo,
    ReloadRequest,
)
from .sentences import split_sentences
from .settings import Settings
from .viewer import ASSETS, viewer_router

__all__ = ["create_app", "load_predictor"]


class LimitError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def check_texts(request: ClassifyRequest, settings: Settings) -> None:
    if len(request.texts) > settings.max_texts:
        raise LimitError(
            413, f"too many texts: {len(request.texts)} > max_texts={settings.max_texts}"
        )
    if request.ids is not None and len(request.ids) != len(request.texts):
        raise LimitError(
            422, f"ids has {len(request.ids)} items but texts has {len(request.texts)}"
        )
    for i, text in enumerate(request.texts):
        if len(text) > settings.max_chars:
            raise LimitError(
                413, f"texts[{i}] has {len(text)} characters > max_chars={settings.max_chars}"
            )
        if not text.strip():
            raise LimitError(422, f"texts[{i}] is empty")


def public_paths(settings: Settings, app: FastAPI) -> set[str]:
    """The paths a caller without a key may use when keys are on."""
    pages = settings.pages()
    paths = set()
    if not settings.auth_health:
        paths |= {"/healthz", "/readyz"}
    if not settings.auth_metrics:
        paths.add("/metrics")
    if "viewer" in pages and settings.viewer:
        paths |= {"/"} | {f"/static/{name}" for name in ASSETS if name != "index.html"}
    if "docs" in pages:
        paths |= {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url} - {None}
    if "openapi" in pages and app.openapi_url:
        paths.add(app.openapi_url)
    return paths


def create_app(settings: Settings | None = None, predictor: Predictor | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = ApiMetrics()
    logger = configure_logging(settings.log_json)
    # handed to the lifespan once: a closure holding `predictor` would keep the first
    # model alive for as long as the app, however many reloads replaced it
    handover = [predictor] if predictor is not None else []
    del predictor

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        served = await ServedModel.open(
            settings, handover.pop() if handover else None, metrics, logger
        )
        app.state.served = served
        loop = asyncio.get_running_loop()
        # not the main thread (tests) or no signals on this platform: no SIGHUP reload
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, served.on_sighup)
        logger.info("serving", extra={"event": "start", "model": served.batcher.model})
        yield
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGHUP)
        await served.close()

    app = FastAPI(
        title="claimtype",
        summary="Is a news sentence a confirmed fact, an attributed claim, a denial or an offer?",
        version="1",
        lifespan=lifespan,
        responses={
            401: {"model": ErrorResponse},
            413: {"model": ErrorResponse},
            422: {"model": ErrorResponse},
        },
    )
    # outermost last: Observe logs every answer, KeyCheck refuses before BodyLimit reads
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    access = Access.from_keys(settings.keys(), settings.admin(), public_paths(settings, app))
    app.add_middleware(KeyCheck, access=access)
    app.add_middleware(Observe, metrics=metrics, logger=logger)

    @app.exception_handler(LimitError)
    async def on_limit(_: Request, exc: LimitError) -> JSONResponse:
        return JSONResponse(status_code=exc.status, content={"detail": exc.detail})

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()
        ]
        return JSONResponse(status_code=422, content={"detail": "; ".join(errors) or "invalid"})

    async def predict(request: Request, texts: list[str]) -> Scored:
        scored = await request.app.state.served.batcher.predict(texts)
        for label, n in Counter(p.label.value for p in scored.predictions).items():
            metrics.predictions.labels(label=label).inc(n)
        return scored

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    async def readyz(request: Request) -> JSONResponse:
        """The model is loaded and answers."""
        try:
            scored = await asyncio.wait_for(
                request.app.state.served.batcher.predict(["Ready."]), timeout=5
            )
        except Exception as exc:
            return JSONResponse(
                status_code=503, content={"status": "not ready", "detail": str(exc)}
            )
        return JSONResponse({"status": "ready", "model": scored.model})

    @app.get("/metrics", tags=["operations"])
    async def prometheus() -> Response:
        """Prometheus metrics."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/v1/classify", response_model=ClassifyResponse)
    async def classify(body: ClassifyRequest, request: Request) -> JSONResponse:
        """Label each text (one sentence each), in order."""
        check_texts(body, settings)
        scored = await predict(request, body.texts)
        ids = body.ids or [None] * len(scored.predictions)
        # the hot path: Predictions are already validated, so serialise them directly
        # instead of building and re-validating a ClassifyResponse per request
        results = [
            {"id": i, "label": p.label.value, "scores": p.scores, "truncated": p.truncated}
            for i, p in zip(ids, scored.predictions, strict=True)
        ]
        return JSONResponse({"model": scored.model, "results": results})

    @app.post("/v1/classify/article", response_model=ArticleResponse)
    async def classify_article(body: ArticleRequest, request: Request) -> ArticleResponse:
        """Split an article into sentences and label each, with character offsets."""
        if len(body.text) > settings.max_article_chars:
            raise LimitError(
                413,
                f"article has {len(body.text)} characters > max_article_chars="
                f"{settings.max_article_chars}",
            )
        sentences = split_sentences(body.text)
        if not sentences:
            raise LimitError(422, "the article has no sentences")
        scored = await predict(request, [s.text for s in sentences])
        rows = [
            ArticleSentence(index=i, start=s.start, end=s.end, text=s.text, **p.model_dump())
            for i, (s, p) in enumerate(zip(sentences, scored.predictions, strict=True))
        ]
        counts = Counter(p.label.value for p in scored.predictions)
        return ArticleResponse(
            model=scored.model,
            id=body.id,
            sentences=rows,
            counts={k: counts.get(k, 0) for k in LABELS},
        )

    feedback = FeedbackStore(settings.feedback_db)

    @app.post(
        "/v1/feedback",
        status_code=201,
        response_model=FeedbackResponse,
        tags=["feedback"],
    )
    async def post_feedback(body: FeedbackRequest) -> FeedbackResponse:
        """Record a correction; `claimtype feedback export` turns them into training data."""
        if len(body.text) > settings.max_chars:
            raise LimitError(
                413, f"text has {len(body.text)} characters > max_chars={settings.max_chars}"
            )
        if not body.text.strip():
            raise LimitError(422, "text is empty")
        try:
            record = await asyncio.to_thread(
                feedback.add,
                body.text.strip(),
                body.label.value,
                body.note,
                body.predicted.value if body.predicted else None,
                body.model,
            )
        except (OSError, sqlite3.Error) as exc:
            logger.error(f"feedback not stored in {settings.feedback_db}: {exc}")
            raise HTTPException(503, "feedback storage is unavailable; try again later") from exc
        return FeedbackResponse(id=record.id, created=record.created, label=body.label)

    @app.get("/v1/model", response_model=ModelInfo)
    async def get_model(request: Request) -> ModelInfo:
        """Name, version, labels with their definitions, metrics and file hashes."""
        info = request.app.state.served.info
        if info is None:
            raise HTTPException(404, "this predictor has no model directory")
        return info

    @app.post("/v1/admin/reload", response_model=ModelInfo)
    async def admin_reload(body: ReloadRequest, request: Request) -> ModelInfo:
        """Load, verify and swap in a model directory (default: the one served now).

        The old model serves until the new one is ready.
        """
        served: ServedModel = request.app.state.served
        try:
            info = await served.reload(Path(body.model) if body.model else None)
        except ModelDirError as exc:
            raise HTTPException(409, f"reload refused, still serving the old model: {exc}") from exc
        assert info is not None
        return info

    if settings.viewer:
        app.include_router(viewer_router())

    return app
