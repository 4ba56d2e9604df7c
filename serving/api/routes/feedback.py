"""POST /v1/feedback: a user's correction, kept for `claimtype feedback export`."""

from __future__ import annotations

import asyncio
import sqlite3

from fastapi import APIRouter, HTTPException

from ...feedback import checked_evidence
from ...schemas import FeedbackRequest, FeedbackResponse
from ..deps import FeedbackDep, LoggerDep, SettingsDep
from ..errors import check_text

__all__ = ["router"]

router = APIRouter(tags=["feedback"])


@router.post("/v1/feedback", status_code=201, response_model=FeedbackResponse)
async def post_feedback(
    body: FeedbackRequest, settings: SettingsDep, store: FeedbackDep, logger: LoggerDep
) -> FeedbackResponse:
    """Record a correction; `claimtype feedback export` turns them into training data.

    Spans that cannot be meant (outside the text, overlapping, on a fact) are a 422
    and nothing is stored; the answer gives back the spans as kept (trimmed).
    """
    check_text(body.text, "text", settings.max_chars, "max_chars")
    try:
        evidence = checked_evidence(body.text, body.label, body.evidence)
    except ValueError as exc:
        raise HTTPException(422, f"evidence: {exc}") from exc
    predicted = body.predicted.value if body.predicted else None
    try:
        record = await asyncio.to_thread(
            store.add, body.text, body.label.value, body.note, predicted, body.model, evidence
        )
    except (OSError, sqlite3.Error) as exc:
        logger.error(f"feedback not stored in {store.path}: {exc}")
        raise HTTPException(503, "feedback storage is unavailable; try again later") from exc
    return FeedbackResponse(
        id=record.id, created=record.created, label=body.label, evidence=evidence
    )
