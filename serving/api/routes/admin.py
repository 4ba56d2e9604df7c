"""POST /v1/admin/reload: swap in a model directory (admin keys only, see auth.py)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException

from ...artefact import ModelDirError
from ...schemas import ModelInfo, ReloadRequest
from ..deps import ServedDep

__all__ = ["router"]

router = APIRouter()


@router.post("/v1/admin/reload", response_model=ModelInfo)
async def admin_reload(body: ReloadRequest, served: ServedDep) -> ModelInfo:
    """Load, verify and swap in a model directory (default: the one served now).

    The old model serves until the new one is ready.
    """
    try:
        info = await served.reload(Path(body.model) if body.model else None)
    except ModelDirError as exc:
        raise HTTPException(409, f"reload refused, still serving the old model: {exc}") from exc
    if info is None:  # a directory always has its info; only a test's fake predictor has none
        raise HTTPException(500, "the reloaded model has no model directory")
    return info
