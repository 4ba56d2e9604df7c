"""The REST API: an app factory, a model loaded once, thin typed routes.

`create_app(settings, predictor)` takes a ready predictor in tests; otherwise the
lifespan loads and verifies the model directory and the server refuses to start
on a bad one. Requests go through a micro-batcher to a single inference thread.
A reload (SIGHUP or the admin route) builds the new predictor beside the old
one and swaps a reference: batches already running finish on the old model,
and a model that fails verification is refused while the old one keeps serving.
The article viewer page (serving/viewer.py) is served at `/` unless turned off.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import signal
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serving.artefact import ModelDirError, load_model_dir
from serving.batcher import MicroBatcher
from serving.feedback import FeedbackStore
from serving.labels import DEFINITIONS, LABELS
from serving.middleware import BodyLimit, Observe
from serving.observability import ApiMetrics, configure_logging
from serving.predictor import OnnxPredictor, Predictor
from serving.schemas import (
    ArticleRequest,
    ArticleResponse,
    ArticleSentence,
    ClassifyRequest,
    ClassifyResponse,
    ErrorResponse,
    FeedbackRequest,
    FeedbackResponse,
    LabelInfo,
    ModelInfo,
    Prediction,
    ReloadRequest,
)
from serving.sentences import split_sentences
from serving.settings import Settings
from serving.viewer import viewer_router

__all__ = ["create_app", "load_predictor"]


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
        files={**m.files, **m.optional_files},
        metrics=model_dir.metrics(),
    )


@dataclass
class Served:
    """What is being served now; replaced whole on reload."""

    predictor: Predictor
    info: ModelInfo | None


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


def _presented_key(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key", "")


def _key_matches(presented: str, keys: list[str]) -> bool:
    """Constant-time comparison against every key (no early exit on a match)."""
    ok = False
    for key in keys:
        ok |= hmac.compare_digest(presented.encode(), key.encode())
    return ok


def create_app(settings: Settings | None = None, predictor: Predictor | None = None) -> FastAPI:
    settings = settings or Settings()
    keys = settings.keys()
    admin_keys = settings.admin()
    metrics = ApiMetrics()
    logger = configure_logging(settings.log_json)

    def require_key(request: Request) -> None:
        if keys and not _key_matches(_presented_key(request), keys):
            raise HTTPException(401, "a valid API key is required", {"WWW-Authenticate": "Bearer"})

    def optional_key(enabled: bool):  # type: ignore[no-untyped-def]
        return [Depends(require_key)] if enabled else []

    def require_admin(request: Request) -> None:
        if not admin_keys:
            raise HTTPException(403, "admin routes are off: set CLAIMTYPE_ADMIN_KEYS")
        if not _key_matches(_presented_key(request), admin_keys):
            raise HTTPException(
                401, "a valid admin key is required", {"WWW-Authenticate": "Bearer"}
            )

    async def reload(app: FastAPI, path: Path | None) -> Served:
        async with app.state.reload_lock:
            new = await asyncio.to_thread(load_predictor, settings, path)
            await asyncio.to_thread(new.predict, ["The model is ready."])
            served = Served(new, model_info(new))
            app.state.served = served
            metrics.set_model(new.name)
            logger.info("model reloaded", extra={"event": "reload", "model": new.name})
            return served

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        current = predictor or await asyncio.to_thread(load_predictor, settings)
        app.state.served = Served(current, model_info(current))
        app.state.reload_lock = asyncio.Lock()
        metrics.set_model(current.name)
        batcher = MicroBatcher(
            lambda: app.state.served.predictor,
            settings.max_batch,
            settings.max_wait_ms,
            metrics.batch_size.observe,
        )
        batcher.start()
        app.state.batcher = batcher
        loop = asyncio.get_running_loop()

        def on_sighup() -> None:
            async def run() -> None:
                try:
                    await reload(app, None)
                except Exception as exc:
                    logger.error(f"reload refused, still serving the old model: {exc}")

            task = loop.create_task(run())
            reloads.add(task)
            task.add_done_callback(reloads.discard)

        reloads: set[asyncio.Task] = set()
        # not the main thread (tests) or no signals on this platform: no SIGHUP reload
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, on_sighup)
        logger.info("serving", extra={"event": "start", "model": current.name})
        yield
        await batcher.stop()

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
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
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

    async def predict(request: Request, texts: list[str]) -> list[Prediction]:
        predictions = await request.app.state.batcher.predict(texts)
        for label, n in Counter(p.label.value for p in predictions).items():
            metrics.predictions.labels(label=label).inc(n)
        return predictions

    @app.get("/healthz", dependencies=optional_key(settings.auth_health), tags=["operations"])
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz", dependencies=optional_key(settings.auth_health), tags=["operations"])
    async def readyz(request: Request) -> JSONResponse:
        """The model is loaded and answers."""
        try:
            await asyncio.wait_for(request.app.state.batcher.predict(["Ready."]), timeout=5)
        except Exception as exc:
            return JSONResponse(
                status_code=503, content={"status": "not ready", "detail": str(exc)}
            )
        return JSONResponse({"status": "ready", "model": request.app.state.served.predictor.name})

    @app.get("/metrics", dependencies=optional_key(settings.auth_metrics), tags=["operations"])
    async def prometheus() -> Response:
        """Prometheus metrics."""
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/v1/classify", response_model=ClassifyResponse, dependencies=[Depends(require_key)])
    async def classify(body: ClassifyRequest, request: Request) -> JSONResponse:
        """Label each text (one sentence each), in order."""
        check_texts(body, settings)
        predictions = await predict(request, body.texts)
        ids = body.ids or [None] * len(predictions)
        # the hot path: Predictions are already validated, so serialise them directly
        # instead of building and re-validating a ClassifyResponse per request
        results = [
            {"id": i, "label": p.label.value, "scores": p.scores, "truncated": p.truncated}
            for i, p in zip(ids, predictions, strict=True)
        ]
        name = request.app.state.served.predictor.name
        return JSONResponse({"model": name, "results": results})

    @app.post(
        "/v1/classify/article", response_model=ArticleResponse, dependencies=[Depends(require_key)]
    )
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
        predictions = await predict(request, [s.text for s in sentences])
        rows = [
            ArticleSentence(index=i, start=s.start, end=s.end, text=s.text, **p.model_dump())
            for i, (s, p) in enumerate(zip(sentences, predictions, strict=True))
        ]
        counts = Counter(p.label.value for p in predictions)
        return ArticleResponse(
            model=request.app.state.served.predictor.name,
            id=body.id,
            sentences=rows,
            counts={k: counts.get(k, 0) for k in LABELS},
        )

    feedback = FeedbackStore(settings.feedback_db)

    @app.post(
        "/v1/feedback",
        status_code=201,
        response_model=FeedbackResponse,
        dependencies=[Depends(require_key)],
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

    @app.get("/v1/model", response_model=ModelInfo, dependencies=[Depends(require_key)])
    async def get_model(request: Request) -> ModelInfo:
        """Name, version, labels with their definitions, metrics and file hashes."""
        info = request.app.state.served.info
        if info is None:
            raise HTTPException(404, "this predictor has no model directory")
        return info

    @app.post("/v1/admin/reload", response_model=ModelInfo, dependencies=[Depends(require_admin)])
    async def admin_reload(body: ReloadRequest, request: Request) -> ModelInfo:
        """Load, verify and swap in a model directory; the old one serves until it is ready."""
        try:
            served = await reload(request.app, Path(body.model) if body.model else None)
        except ModelDirError as exc:
            raise HTTPException(409, f"reload refused, still serving the old model: {exc}") from exc
        assert served.info is not None
        return served.info

    if settings.viewer:
        app.include_router(viewer_router())

    return app
