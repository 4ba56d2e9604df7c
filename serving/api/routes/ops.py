"""Operations: liveness, readiness, Prometheus metrics and what model is served."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ...schemas import ModelInfo
from ..deps import ServedDep

__all__ = ["router"]

router = APIRouter()


@router.get("/healthz", tags=["operations"])
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", tags=["operations"])
async def readyz(served: ServedDep) -> JSONResponse:
    """The model is loaded and answers."""
    try:
        scored = await asyncio.wait_for(served.batcher.predict(["Ready."]), timeout=5)
    except Exception as exc:
        return JSONResponse(status_code=503, content={"status": "not ready", "detail": str(exc)})
    return JSONResponse({"status": "ready", "model": scored.model})


@router.get("/metrics", tags=["operations"])
async def prometheus(request: Request) -> Response:
    """Prometheus metrics."""
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/model", response_model=ModelInfo)
async def get_model(served: ServedDep) -> ModelInfo:
    """Name, version, labels with their definitions, metrics and file hashes."""
    if served.info is None:
        raise HTTPException(404, "this predictor has no model directory")
    return served.info
