"""Request and response models shared by the API and batch output.

Both serialise the same `Prediction`, so a sentence scored through the REST API
and the same sentence in a batch archive carry identical fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from .labels import Label

if TYPE_CHECKING:
    from .sentences import Sentence

__all__ = [
    "ArticleEvidence",
    "ArticleEvidenceSpan",
    "ArticleRequest",
    "ArticleResponse",
    "ArticleSentence",
    "ClassifyRequest",
    "ClassifyResponse",
    "ClassifyResult",
    "ErrorResponse",
    "Evidence",
    "EvidenceSpan",
    "FeedbackEvidence",
    "FeedbackRequest",
    "FeedbackResponse",
    "ModelInfo",
    "Prediction",
    "ReloadRequest",
    "SourceCount",
]


class EvidenceSpan(BaseModel):
    """A run of the sentence's characters: text == sentence[start:end]."""

    model_config = ConfigDict(frozen=True)

    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0, description="exclusive")


class Evidence(BaseModel):
    """Who the claim, denial or offer comes from, and the words that carry its type.

    Both are null for a fact, and either is null when the sentence does not name it
    (data/EVIDENCE.md).
    """

    model_config = ConfigDict(frozen=True)

    source: EvidenceSpan | None = None
    cue: EvidenceSpan | None = None


class Prediction(BaseModel):
    """One sentence's claim type with its (calibrated) probability per label."""

    model_config = ConfigDict(frozen=True)

    label: Label
    scores: dict[str, float] = Field(description="label -> calibrated probability; sums to 1")
    truncated: bool = Field(
        default=False, description="the text was cut to the model's token limit before scoring"
    )
    evidence: Evidence | None = Field(
        default=None,
        description="source and cue spans, offsets into the sentence; null when the model "
        "has no evidence head",
    )

    def as_row(self) -> dict[str, Any]:
        """The fields a batch row or a DataFrame row gets (the label as `claim_type`)."""
        return {
            "claim_type": self.label.value,
            "scores": self.scores,
            "truncated": self.truncated,
            "evidence": None if self.evidence is None else self.evidence.model_dump(),
        }


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


class ArticleEvidenceSpan(EvidenceSpan):
    """A span with its offsets in the sentence (start, end) and in the article."""

    article_start: int = Field(ge=0)
    article_end: int = Field(ge=0)


class ArticleEvidence(Evidence):
    source: ArticleEvidenceSpan | None = None
    cue: ArticleEvidenceSpan | None = None

    @classmethod
    def placed(cls, evidence: Evidence, offset: int) -> ArticleEvidence:
        """evidence of a sentence that starts at `offset` in its article."""
        spans = {
            kind: None
            if span is None
            else ArticleEvidenceSpan(
                **span.model_dump(),
                article_start=span.start + offset,
                article_end=span.end + offset,
            )
            for kind, span in (("source", evidence.source), ("cue", evidence.cue))
        }
        return cls(**spans)


class ArticleSentence(Prediction):
    index: int
    start: int = Field(description="character offset of the sentence in the article")
    end: int
    text: str
    evidence: ArticleEvidence | None = None

    @classmethod
    def rows(
        cls, sentences: Sequence[Sentence], predictions: Sequence[Prediction]
    ) -> list[ArticleSentence]:
        """An article's sentences joined with their predictions, in order."""
        return [
            cls(
                index=i,
                start=s.start,
                end=s.end,
                text=s.text,
                label=p.label,
                scores=p.scores,
                truncated=p.truncated,
                evidence=None
                if p.evidence is None
                else ArticleEvidence.placed(p.evidence, s.start),
            )
            for i, (s, p) in enumerate(zip(sentences, predictions, strict=True))
        ]


class SourceCount(BaseModel):
    """One source's claims, denials and offers, with where they are."""

    source: str = Field(description="the source folded: case, determiners and titles")
    names: list[str] = Field(description="how the text writes it, most frequent first")
    claim: int = 0
    denial: int = 0
    offer: int = 0
    where: list[str | int] = Field(
        description="the sentence indices (one article) or document ids (an archive) it is in"
    )


class ArticleResponse(BaseModel):
    model: str
    id: str | None = None
    sentences: list[ArticleSentence]
    counts: dict[str, int] = Field(description="sentences per label")
    sources: list[SourceCount] = Field(
        default_factory=list, description="who says what in this article, most active first"
    )


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


class FeedbackEvidence(BaseModel):
    """A reader's source and cue for a corrected sentence, as `[start, end]` offsets into its text.

    Lists, not objects with text: the corpus stores spans this way (data/EVIDENCE.md,
    "Format"), so an exported correction needs no conversion. Offsets count code
    points, as Python indexes a string; end is exclusive.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    source: Annotated[list[StrictInt], Field(min_length=2, max_length=2)] | None = Field(
        default=None, description="who: [start, end) in text; null when the sentence names nobody"
    )
    cue: Annotated[list[StrictInt], Field(min_length=2, max_length=2)] | None = Field(
        default=None, description="the words that carry the label: [start, end) in text"
    )


class FeedbackRequest(BaseModel):
    """A user's correction: the label that is right for one sentence, and optionally its spans."""

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
    evidence: FeedbackEvidence | None = Field(
        default=None,
        description="the source and cue the user says are right (not allowed on a fact); "
        "spans inside text that do not overlap. Surrounding spaces and punctuation are "
        "trimmed off as data/EVIDENCE.md says",
    )


class FeedbackResponse(BaseModel):
    id: int
    created: str
    label: Label
    evidence: FeedbackEvidence | None = Field(
        default=None, description="the spans as kept: trimmed, offsets into the request's text"
    )
