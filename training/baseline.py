"""The cue-word baseline: what a keyword rule gets, kept as the floor a model must beat.

It applies the guide's precedence (offer, denial, claim, fact) to the first cue
word found. It is deliberately the shallow reader that the corpus's contrast
pairs are written against.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..labels import Label
from ..preprocess import normalize

__all__ = ["CUES", "cue_word_label"]

CUES: dict[Label, re.Pattern[str]] = {
    Label.OFFER: re.compile(
        r"\b(offer(s|ed|ing)?|propos(e|es|ed|al)|bid|willing|ready to|pledge[sd]?|reward)\b"
    ),
    Label.DENIAL: re.compile(
        r"\b(den(y|ies|ied)|reject(s|ed)?|dismiss(es|ed)?|disput(e|es|ed)|refut(e|es|ed)|"
        r"false|baseless|fabricated|not confirmed|declined to comment|not guilty)\b"
    ),
    Label.CLAIM: re.compile(
        r"\b(said|says|told|announced|claim(s|ed)?|stated|alleged(ly)?|reported(ly)?|warned|"
        r"estimated|believe[sd]?|according to|citing|admitted)\b"
    ),
}


def cue_word_label(text: str) -> Label:
    lowered = normalize(text).lower()
    for label, pattern in CUES.items():
        if pattern.search(lowered):
            return label
    return Label.FACT


def cue_word_labels(texts: Sequence[str]) -> list[Label]:
    return [cue_word_label(t) for t in texts]
