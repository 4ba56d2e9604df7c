"""Text clean-up and tokenisation shared by training, export and serving.

The model only ever sees token ids made here: training's collator, the export
parity gate and the runtime all call `normalize` and `Encoder`, so a sentence is
encoded the same way wherever it is scored. `NORMALIZATION_VERSION` is written
into each model directory; change it whenever `normalize` changes behaviour.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

__all__ = [
    "NORMALIZATION_VERSION",
    "Batch",
    "Encoder",
    "Normalized",
    "Tokens",
    "normalize",
    "normalize_with_offsets",
]

NORMALIZATION_VERSION = 1

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
    }
)
_SPACE = re.compile(r"\s+")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def normalize(text: str) -> str:
    """Return the form of `text` the model was trained on.

    Curly and straight quotes are written many ways in news copy; folding them
    keeps "said" after a quote from depending on the newsroom's typography.
    Lone surrogates (which JSON can carry) become U+FFFD instead of crashing the
    tokenizer, and control characters and runs of white space become one space.
    """
    text = _SURROGATE.sub("\ufffd", text)
    text = unicodedata.normalize("NFC", text).translate(_QUOTES)
    if not text.isprintable():  # the character walk is the slow part; most text skips it
        text = "".join(
            " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
        )
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class Normalized:
    """`normalize(original)` with, for each of its characters, where it came from.

    Evidence spans are found in the normalised text the model read but are
    reported in the caller's text: `original_span` maps them back, so folding
    quotes or white space never shifts an offset. Most text is already in
    normal form; it keeps no tables (starts is None).
    """

    text: str
    original: str
    #: starts[i], ends[i]: the run of `original` that normalised character i came from
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of `original` that normalised characters start..end (exclusive) cover."""
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]

    def normalized_span(self, start: int, end: int) -> tuple[int, int] | None:
        """The normalised characters that come from original[start:end], or None if none do."""
        if self.starts is None or self.ends is None:
            start, end = max(start, 0), min(end, len(self.text))
            return (start, end) if start < end else None
        pairs = enumerate(zip(self.starts, self.ends, strict=True))
        inside = [i for i, (a, b) in pairs if a < end and b > start]
        return (inside[0], inside[-1] + 1) if inside else None


def _nfc_pieces(text: str) -> list[tuple[str, int, int]]:
    """NFC one combining cluster at a time, each piece with the input run it came from."""
    starts = [i for i, ch in enumerate(text) if i == 0 or not unicodedata.combining(ch)]
    bounds = [*starts, len(text)]
    return [(unicodedata.normalize("NFC", text[a:b]), a, b) for a, b in itertools.pairwise(bounds)]


def normalize_with_offsets(text: str) -> Normalized:
    """`normalize`, step by step, keeping each character's origin.

    NFC composes within a combining cluster; the rare text where composing cluster
    by cluster differs from the whole (conjoining Hangul jamo) maps every character
    of the result to the whole input rather than guess.
    """
    target = normalize(text)
    if target == text:
        return Normalized(text=text, original=text)
    chars: list[tuple[str, int, int]] = []
    for piece, a, b in _nfc_pieces(_SURROGATE.sub("\ufffd", text)):
        for ch in piece.translate(_QUOTES):
            if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") or ch.isspace():
                ch = " "
            if ch == " " and (not chars or chars[-1][0] == " "):
                continue
            chars.append((ch, a, b))
    if chars and chars[-1][0] == " ":
        chars.pop()
    if "".join(c for c, _, _ in chars) != target:
        chars = [(ch, 0, len(text)) for ch in target]
    return Normalized(
        text=target,
        original=text,
        starts=tuple(a for _, a, _ in chars),
        ends=tuple(b for _, _, b in chars),
    )


@dataclass(frozen=True, slots=True)
class Tokens:
    """One text's token ids before padding, with each token's characters in the normalised text."""

    ids: np.ndarray
    type_ids: np.ndarray
    truncated: bool
    #: (start, end) of each token in `normalize(text)`; (0, 0) for [CLS] and [SEP]
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class Batch:
    """Padded int64 arrays named like the ONNX inputs, plus per-row truncation."""

    arrays: dict[str, np.ndarray]
    truncated: list[bool]


class Encoder:
    """Tokenise with the model directory's tokenizer.json, pad with its own pad id.

    Tokenising and padding are separate steps so that callers can sort texts by
    token length before batching: padding is then close to zero, which is the
    cheapest speed-up there is on a CPU.
    """

    def __init__(self, tokenizer: Tokenizer, max_length: int) -> None:
        if max_length < 8:
            raise ValueError(f"max_length must be at least 8, got {max_length}")
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer.no_padding()
        pad_id = tokenizer.token_to_id("[PAD]")
        if pad_id is None:
            pad_id = tokenizer.token_to_id("<pad>")
        if pad_id is None:
            raise ValueError("the tokenizer has no [PAD] or <pad> token")
        self.pad_id = pad_id

    @classmethod
    def from_file(cls, path: str | Path, max_length: int) -> Encoder:
        return cls(Tokenizer.from_file(str(path)), max_length)

    def tokenize(self, texts: Sequence[str]) -> list[Tokens]:
        """Normalise and tokenise, keeping each text's length and truncation flag."""
        encodings = self.tokenizer.encode_batch([normalize(t) for t in texts])
        return [
            Tokens(
                ids=np.asarray(e.ids, dtype=np.int64),
                type_ids=np.asarray(e.type_ids, dtype=np.int64),
                truncated=bool(e.overflowing),
                offsets=np.asarray(e.offsets, dtype=np.int32).reshape(-1, 2),
            )
            for e in encodings
        ]

    def collate(self, rows: Sequence[Tokens]) -> Batch:
        """Pad a batch to its longest row."""
        width = max((len(r) for r in rows), default=0)
        ids = np.full((len(rows), width), self.pad_id, dtype=np.int64)
        type_ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            n = len(row)
            ids[i, :n] = row.ids
            type_ids[i, :n] = row.type_ids
            mask[i, :n] = 1
        arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": type_ids}
        return Batch(arrays=arrays, truncated=[r.truncated for r in rows])

    def __call__(self, texts: Sequence[str]) -> Batch:
        return self.collate(self.tokenize(texts))
