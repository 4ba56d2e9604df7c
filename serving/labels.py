"""The label schema: the one definition every other part of claimtype follows.

The names, their ids and the precedence come from data/LABELS.md (the annotation
guide). Export writes `LABELS` into each model directory and the loader refuses a
model whose labels differ, so a model can never silently answer with a shifted
schema.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["DEFINITIONS", "LABELS", "PRECEDENCE", "Label", "id2label", "label2id"]


class Label(StrEnum):
    """How a sentence presents its main proposition."""

    FACT = "fact"
    CLAIM = "claim"
    DENIAL = "denial"
    OFFER = "offer"


#: Output order: the model's logit i belongs to LABELS[i].
LABELS: tuple[str, ...] = tuple(label.value for label in Label)

#: When several labels apply, the first that fits wins (LABELS.md, "When several apply").
PRECEDENCE: tuple[Label, ...] = (Label.OFFER, Label.DENIAL, Label.CLAIM, Label.FACT)

#: One-line definitions, word for word from the guide's table.
DEFINITIONS: dict[str, str] = {
    Label.FACT: "the writer states something as established, in their own voice, "
    "with no source and no hedge",
    Label.CLAIM: "a source says, reports, estimates or believes something; "
    "or the writer marks it as unverified",
    Label.DENIAL: "a party rejects, disputes or withholds confirmation of a claim",
    Label.OFFER: "a party offers, proposes or states readiness to give or do something "
    "that another party could take up",
}


def id2label() -> dict[int, str]:
    """The Hugging Face `config.json` mapping, built from LABELS."""
    return dict(enumerate(LABELS))


def label2id() -> dict[str, int]:
    """The inverse of `id2label`."""
    return {name: i for i, name in enumerate(LABELS)}
