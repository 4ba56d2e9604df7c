"""POST /v1/classify and /v1/classify/article: the routes users call."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ...labels import LABELS
from ...schemas import (
    ArticleRequest,
    ArticleResponse,
    ArticleSentence,
    ClassifyRequest,
    ClassifyResponse,
)
from ...sentences import split_sentences
from ...settings import Settings
from ...sources import SourceTable
from ..deps import PredictDep, SettingsDep
from ..errors import LimitError, check_text

__all__ = ["router"]

router = APIRouter()


def check_texts(request: ClassifyRequest, settings: Settings) -> None:
    """Count, ids and every text against the limits, before any is scored."""
    if len(request.texts) > settings.max_texts:
        raise LimitError(
            413, f"too many texts: {len(request.texts)} > max_texts={settings.max_texts}"
        )
    if request.ids is not None and len(request.ids) != len(request.texts):
        raise LimitError(
            422, f"ids has {len(request.ids)} items but texts has {len(request.texts)}"
        )
    for i, text in enumerate(request.texts):
        check_text(text, f"texts[{i}]", settings.max_chars, "max_chars")


@router.post("/v1/classify", response_model=ClassifyResponse)
async def classify(
    body: ClassifyRequest, settings: SettingsDep, predict: PredictDep
) -> JSONResponse:
    """Label each text (one sentence each), in order."""
    check_texts(body, settings)
    scored = await predict(body.texts)
    ids: list[str | None] = list(body.ids) if body.ids else [None] * len(scored.predictions)
    # the hot path: Predictions are already validated, so serialise them directly
    # instead of building and re-validating a ClassifyResponse per request
    results = [
        {"id": i, "label": p.label.value, "scores": p.scores, "truncated": p.truncated}
        | {"evidence": None if p.evidence is None else p.evidence.model_dump()}
        for i, p in zip(ids, scored.predictions, strict=True)
    ]
    return JSONResponse({"model": scored.model, "results": results})


@router.post("/v1/classify/article", response_model=ArticleResponse)
async def classify_article(
    body: ArticleRequest, settings: SettingsDep, predict: PredictDep
) -> ArticleResponse:
    """Split an article into sentences and label each, with character offsets.

    Evidence spans carry offsets into their sentence and into the article; the
    sources table counts each source's claims, denials and offers in it.
    """
    check_text(body.text, "article", settings.max_article_chars, "max_article_chars")
    sentences = split_sentences(body.text)
    if not sentences:
        raise LimitError(422, "the article has no sentences")
    scored = await predict([s.text for s in sentences])
    rows = ArticleSentence.rows(sentences, scored.predictions)
    counts = Counter(p.label.value for p in scored.predictions)
    sources = SourceTable()
    sources.add_all(scored.predictions, range(len(rows)))
    return ArticleResponse(
        model=scored.model,
        id=body.id,
        sentences=rows,
        counts={k: counts.get(k, 0) for k in LABELS},
        sources=sources.rows(),
    )
