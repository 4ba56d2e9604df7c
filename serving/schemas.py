"""Request and response models shared by the API and batch output.

Both serialise the same `Prediction`, so a sentence scored through the REST API
and the same sentence in a batch archive carry identical fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from .labels import Label

if TYPE_CHECKING:
    from .sentences import Sentence

__all__ = [
    "ArticleRequest",
    "ArticleResponse",
    "ArticleSentence",
    "ClassifyRequest",
    "ClassifyResponse",
    "ClassifyResult",
    "ErrorResponse",
    "FeedbackRequest",
    "FeedbackResponse",
    "ModelInfo",
    "Prediction",
    "ReloadRequest",
]


class Prediction(BaseModel):
    """One sentence's claim type with its (calibrated) probability per label."""

    model_config = ConfigDict(frozen=True)

    label: Label
    scores: dict[str, float] = Field(description="label -> calibrated probability; sums to 1")
    truncated: bool = Field(
        default=False, description="the text was cut to the model's token limit before scoring"
    )


class ClassifyRequest(BaseModel):
    """Texts to classify, each one sentence; answered in the same order."""

    model_config = ConfigDict(extra="forbid", strict=True)

    texts: list[str] = Field(min_length=1, examples=[["The ministry denied the report."]])
    ids: list[str] | None = Field(
        default=None, description="optional ids, echoed back with each result"
    )


class ClassifyResult(Prediction):
    id: str | None = None


class ClassifyResponse(BaseModel):
    model: str
    results: list[ClassifyResult]


class ErrorResponse(BaseModel):
    detail: str


class ArticleRequest(BaseModel):
    """One article: split into sentences, each labelled."""

    model_config = ConfigDict(extra="forbid", strict=True)

    text: str = Field(min_length=1)
    id: str | None = None


class ArticleSentence(Prediction):
    index: int
    start: int = Field(description="character offset of the sentence in the article")
    end: int
    text: str

    @classmethod
    def rows(
        cls, sentences: Sequence[Sentence], predictions: Sequence[Prediction]
    ) -> list[ArticleSentence]:
        """An article's sentences joined with their predictions, in order."""
        return [
            cls(index=i, start=s.start, end=s.end, text=s.text, **p.model_dump())
            for i, (s, p) in enumerate(zip(sentences, predictions, strict=True))
        ]


class ArticleResponse(BaseModel):
    model: str
    id: str | None = None
    sentences: list[ArticleSentence]
    counts: dict[str, int] = Field(description="sentences per label")


class LabelInfo(BaseModel):
    name: str
    definition: str


class ModelInfo(BaseModel):
    name: str
    version: str
    precision: str
    precisions: list[str]
    labels: list[LabelInfo]
    max_length: int
    temperature: float
    files: dict[str, str] = Field(description="file -> sha256")
    metrics: dict[str, Any]


class ReloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    model: str | None = Field(default=None, description="model directory; default: the current")


class FeedbackRequest(BaseModel):
    """A user's correction: the label that is right for one sentence."""

    model_config = ConfigDict(extra="forbid", strict=True)

    text: str = Field(min_length=1, examples=["The ministry dismissed the report as fabricated."])
    # strict mode would want Label instances: FastAPI validates the parsed JSON
    label: Label = Field(strict=False, description="the label the user says is right")
    note: str | None = Field(default=None, max_length=2000, description="why, in a few words")
    predicted: Label | None = Field(
        default=None, strict=False, description="the label the model gave"
    )
    model: str | None = Field(
        default=None, max_length=200, description="the model that gave it (name@version)"
    )


class FeedbackResponse(BaseModel):
    id: int
    created: str
    label: Label
