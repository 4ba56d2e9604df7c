"""Evidence spans: the tag scheme the token head is trained on, and its decoding.

The model tags every word piece O, B-/I-SOURCE or B-/I-CUE (data/EVIDENCE.md
defines the spans). Training encodes gold spans with `token_tags` and serving
decodes with `decode_evidence`, both from here, so the two cannot drift apart.
Decoding keeps at most one span of each kind (the likeliest single span
under the tag probabilities), widens it to whole words, trims it as the annotation guide does and
maps it back to the caller's characters; a `fact` has no evidence.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping, Sequence
from typing import TypeGuard

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
    "is_span",
    "shift_spans",
    "span_tokens",
    "spans_overlap",
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


def is_span(value: object) -> TypeGuard[list[int]]:
    """Whether value is a span as the corpus writes one, [start, end] (bounds not checked)."""
    return isinstance(value, list) and len(value) == 2 and all(isinstance(x, int) for x in value)


def spans_overlap(a: Sequence[int], b: Sequence[int]) -> bool:
    """Whether two [start, end) spans share a character."""
    return a[0] < b[1] and b[0] < a[1]


def shift_spans(spans: Mapping[str, object], by: int) -> dict[str, object]:
    """The spans of a text that lost `by` leading characters (it was stripped); anything
    that is not a span stays as it is, for the caller's validation to name."""
    return {kind: [s[0] - by, s[1] - by] if is_span(s) else s for kind, s in spans.items()}


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
#: each kind's B- tag column (its I- tag is the next one)
_BEGIN = np.array([EVIDENCE_TAGS.index(f"B-{kind.upper()}") for kind in EVIDENCE_KINDS])
#: the longest span decoding considers, in word pieces
MAX_SPAN_TOKENS = 32


@functools.lru_cache(maxsize=128)
def _span_mask(n: int) -> np.ndarray:
    """(first, last, 1): 0 where first..last is a span decoding considers, -inf where it
    ends before it starts or runs past MAX_SPAN_TOKENS. Cached: sentences repeat lengths."""
    first, last = np.indices((n, n))
    allowed = (last >= first) & (last - first < MAX_SPAN_TOKENS)
    return np.where(allowed, 0.0, -np.inf)[:, :, None]


def _best_spans(probs: np.ndarray) -> list[tuple[int, int] | None]:
    """Per kind (EVIDENCE_KINDS order), the first..last token of its likeliest single span.

    Each tagging with exactly one span i..j (B at i, I after it up to j, every
    other token neither) is scored by its log-probability under the token head
    and compared with the tagging with none. Picking the argmax tag per token
    instead loses spans the head is unsure of token by token (O wins each vote)
    though one span is far likelier than none, and cuts spans where one inner
    token dips. A REQUIRED_KINDS span is returned even when none looks likelier:
    a claim, denial or offer without a cue is a rare exception in the corpus
    (44 of 12,000 training sentences), one without a source is not (about 6%).
    Both kinds are scored in one pass of array operations: this runs once per
    sentence on the serving path.
    """
    tiny = 1e-9
    p_b, p_i = probs[:, _BEGIN], probs[:, _BEGIN + 1]  # (tokens, kinds)
    log_b, log_i = np.log(p_b + tiny), np.log(p_i + tiny)
    log_o = np.log(np.clip(1.0 - p_b - p_i, tiny, None))
    n = len(probs)
    zero = np.zeros((1, len(_BEGIN)))
    o_before = np.concatenate([zero, np.cumsum(log_o, axis=0)])  # [t]: the tokens before t
    i_upto = np.concatenate([zero, np.cumsum(log_i, axis=0)])
    none = o_before[n]
    # score(i..e) = head(i) + tail(e): O before i, B at i, I over i+1..e, O after e
    head = o_before[:n] + log_b - i_upto[1:]
    tail = i_upto[1:] + none - o_before[1:]
    score = (head[:, None] + tail[None, :] + _span_mask(n)).reshape(-1, len(_BEGIN))
    best = score.argmax(axis=0)
    found: list[tuple[int, int] | None] = []
    for k, kind in enumerate(EVIDENCE_KINDS):
        if kind not in REQUIRED_KINDS and score[best[k], k] <= none[k]:
            found.append(None)
            continue
        first, last = divmod(int(best[k]), n)
        found.append((first, last))
    return found


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
    runs = _best_spans(probs)
    spans = [None if run is None else _span(normalized, offsets, *run) for run in runs]
    return Evidence(**dict(zip(EVIDENCE_KINDS, spans, strict=True)))


def _span(
    normalized: Normalized, offsets: np.ndarray, first: int, last: int
) -> EvidenceSpan | None:
    start, end = _whole_words(normalized.text, int(offsets[first, 0]), int(offsets[last, 1]))
    start, end = trim_span(normalized.text, start, end)
    if start >= end:
        return None
    start, end = normalized.original_span(start, end)
    return EvidenceSpan(text=normalized.original[start:end], start=start, end=end)
