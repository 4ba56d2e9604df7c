"""Evidence spans: the tag scheme the token head is trained on, and its decoding.

The model tags every word piece O, B-/I-SOURCE or B-/I-CUE (data/EVIDENCE.md
defines the spans). Training encodes gold spans with `token_tags` and serving
decodes with `decode_evidence`, both from here, so the two cannot drift apart.
Decoding keeps at most one span of each kind (the likeliest single span
under the tag probabilities), widens it to whole words, trims it as the annotation guide does and
maps it back to the caller's characters; a `fact` has no evidence.
"""

from __future__ import annotations

import string

import numpy as np

from .labels import Label
from .preprocess import Normalized
from .schemas import Evidence, EvidenceSpan

__all__ = [
    "EVIDENCE_KINDS",
    "EVIDENCE_TAGS",
    "IGNORE_TAG",
    "SPAN_EDGES",
    "decode_evidence",
    "span_tokens",
    "token_tags",
    "trim_span",
]

EVIDENCE_KINDS: tuple[str, ...] = ("source", "cue")
#: Output order of the token head: tag i belongs to EVIDENCE_TAGS[i].
EVIDENCE_TAGS: tuple[str, ...] = ("O", "B-SOURCE", "I-SOURCE", "B-CUE", "I-CUE")
#: the tag of a position the loss skips ([CLS], [SEP], padding, rows without spans)
IGNORE_TAG = -100

#: what a span may not start or end with: EVIDENCE.md trims spans of spaces and
#: punctuation, but an abbreviation's full stop belongs to a name ("Harlan Steel Co.")
#: and so does a closing bracket or a possessive apostrophe
SPAN_EDGES = (
    frozenset(string.whitespace + ',;:!?"“”‘’—–-.('),
    frozenset(string.whitespace + ',;:!?"“”‘—–-('),
)


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """start..end without the spaces and punctuation the guide keeps out of a span."""
    while start < end and text[start] in SPAN_EDGES[0]:
        start += 1
    while end > start and text[end - 1] in SPAN_EDGES[1]:
        end -= 1
    return start, end


def span_tokens(offsets: np.ndarray, start: int, end: int) -> list[int]:
    """Indices of the word pieces that overlap characters start..end."""
    return [i for i, (a, b) in enumerate(offsets) if b > a and a < end and b > start]


def token_tags(offsets: np.ndarray, spans: dict[str, tuple[int, int] | None]) -> list[int]:
    """The BIO tag id of each word piece, given spans in the normalised text.

    Special tokens (empty offsets) get IGNORE_TAG so the loss leaves them out.
    """
    tags = [0 if b > a else IGNORE_TAG for a, b in offsets]
    for kind, span in spans.items():
        if span is None:
            continue
        begin = EVIDENCE_TAGS.index(f"B-{kind.upper()}")
        for n, i in enumerate(span_tokens(offsets, *span)):
            tags[i] = begin if n == 0 else begin + 1
    return tags


#: span kinds a claim, denial or offer nearly always has: decoding always marks one
REQUIRED_KINDS = frozenset({"cue"})
#: the longest span decoding considers, in word pieces
MAX_SPAN_TOKENS = 32


def _best_span(probs: np.ndarray, kind: str, required: bool) -> tuple[int, int] | None:
    """The first..last token of the likeliest single span of this kind, or None.

    Each tagging with exactly one span i..j (B at i, I after it up to j, every
    other token neither) is scored by its log-probability under the token head
    and compared with the tagging with none. Picking the argmax tag per token
    instead loses spans the head is unsure of token by token (O wins each vote)
    though one span is far likelier than none, and cuts spans where one inner
    token dips. A `required` span is returned even when no span looks likelier:
    a claim, denial or offer without a cue is a rare exception in the corpus
    (44 of 12,000 training sentences), one without a source is not (about 6%).
    """
    begin = EVIDENCE_TAGS.index(f"B-{kind.upper()}")
    tiny = 1e-9
    log_b = np.log(probs[:, begin] + tiny)
    log_i = np.log(probs[:, begin + 1] + tiny)
    log_o = np.log(np.clip(1.0 - probs[:, begin] - probs[:, begin + 1], tiny, None))
    n = len(probs)
    o_before = np.concatenate([[0.0], np.cumsum(log_o)])  # o_before[t]: tokens before t
    i_upto = np.concatenate([[0.0], np.cumsum(log_i)])
    starts = np.arange(n)[:, None]
    ends = starts + np.arange(MAX_SPAN_TOKENS)[None, :]  # last token of the span
    valid = ends < n
    ends = np.minimum(ends, n - 1)
    score = (
        o_before[starts]
        + log_b[starts]
        + (i_upto[ends + 1] - i_upto[starts + 1])
        + (o_before[n] - o_before[ends + 1])
    )
    score = np.where(valid, score, -np.inf)
    first, width = np.unravel_index(int(np.argmax(score)), score.shape)
    if not required and score[first, width] <= o_before[n]:
        return None
    return int(first), int(first + width)


def _whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen start..end so that it cuts no word in two (a span of word pieces may)."""
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    return start, end


def decode_evidence(
    tag_logits: np.ndarray, offsets: np.ndarray, normalized: Normalized, label: Label | str
) -> Evidence:
    """The source and cue spans of one sentence, in offsets of `normalized.original`.

    tag_logits and offsets cover the sentence's tokens (no padding). Tags are
    decoded for the winning label only when it is not `fact`.
    """
    if Label(label) is Label.FACT:
        return Evidence(source=None, cue=None)
    z = tag_logits - tag_logits.max(-1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    probs[(offsets[:, 1] <= offsets[:, 0])] = (1.0, 0, 0, 0, 0)  # [CLS], [SEP]: no characters
    spans: dict[str, EvidenceSpan | None] = {}
    for kind in EVIDENCE_KINDS:
        run = _best_span(probs, kind, required=kind in REQUIRED_KINDS)
        spans[kind] = None if run is None else _span(normalized, offsets, *run)
    return Evidence(**spans)


def _span(
    normalized: Normalized, offsets: np.ndarray, first: int, last: int
) -> EvidenceSpan | None:
    start, end = _whole_words(normalized.text, int(offsets[first, 0]), int(offsets[last, 1]))
    start, end = trim_span(normalized.text, start, end)
    if start >= end:
        return None
    start, end = normalized.original_span(start, end)
    return EvidenceSpan(text=normalized.original[start:end], start=start, end=end)
