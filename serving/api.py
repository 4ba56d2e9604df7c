"""The REST API: an app factory, a model loaded once at start-up, thin routes.

`create_app(settings, predictor)` takes a ready predictor in tests; otherwise the
lifespan loads the model directory from settings, verifying it first, and the
server refuses to start on a bad directory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from serving.predictor import OnnxPredictor, Predictor
from serving.schemas import ClassifyRequest, ClassifyResponse, ClassifyResult, ErrorResponse
from serving.settings import Settings

__all__ = ["create_app"]


class LimitError(Exception):
    """A request past one of the configured limits."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def load_predictor(settings: Settings) -> OnnxPredictor:
    from serving.artefact import load_model_dir

    model_dir = load_model_dir(settings.model, settings.precision)
    return OnnxPredictor(model_dir, threads=settings.threads, batch_size=settings.batch_size)


def check_limits(request: ClassifyRequest, settings: Settings) -> None:
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


def create_app(settings: Settings | None = None, predictor: Predictor | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.predictor = predictor or load_predictor(settings)
        yield

    app = FastAPI(
        title="claimtype",
        summary="Is a news sentence a confirmed fact, an attributed claim, a denial or an offer?",
        lifespan=lifespan,
        responses={413: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
    )

    @app.middleware("http")
    async def limit_body(request: Request, call_next):  # type: ignore[no-untyped-def]
        size = request.headers.get("content-length")
        if size is not None and (not size.isdigit() or int(size) > settings.max_body_bytes):
            return JSONResponse(
                status_code=413,
                content={"detail": f"body over max_body_bytes={settings.max_body_bytes}"},
            )
        return await call_next(request)

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

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/classify", response_model=ClassifyResponse)
    async def classify(body: ClassifyRequest, request: Request) -> ClassifyResponse:
        check_limits(body, settings)
        model: Predictor = request.app.state.predictor
        predictions = await run_in_threadpool(model.predict, body.texts)
        ids = body.ids or [None] * len(predictions)
        results = [
            ClassifyResult(id=i, **p.model_dump()) for i, p in zip(ids, predictions, strict=True)
        ]
        return ClassifyResponse(model=model.name, results=results)

    return app
