"""Who said what: folding source spans to one name, and counting labels per source.

An archive names one party many ways ("the ministry", "The Ministry", "Mr.
Okafor", "Okafor"). `fold_source` makes the key they share: lower case, no
leading determiner, no courtesy or office title before a name, no possessive
"'s" at the end, one space between words. The table keeps the forms as written
so a reader sees what was folded together.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from .labels import Label
from .schemas import Prediction, SourceCount

__all__ = ["SourceTable", "fold_source"]

_DETERMINERS = ("the", "a", "an", "this", "that", "these", "those")
#: titles folded away when a name follows them ("President Alma Reyes" = "Alma Reyes");
#: words that also begin organisations' names ("General", "Justice") are not among them
_TITLES = (
    *("mr", "mrs", "ms", "miss", "dr", "prof", "professor", "sir", "dame", "rev", "reverend"),
    *("president", "vice president", "prime minister", "minister", "chancellor", "senator"),
    *("sen", "rep", "representative", "governor", "gov", "mayor", "judge", "chief executive"),
)
_LEADING = re.compile(rf"^(?:(?:{'|'.join(_DETERMINERS)})\s+)+")
_TITLE = re.compile(rf"^(?:(?:{'|'.join(sorted(_TITLES, key=len, reverse=True))})\.?\s+)+(?=\S)")
_POSSESSIVE = re.compile(r"(?:'s|')$")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'"})


def fold_source(text: str) -> str:
    """The key a source is counted under; "" when nothing is left (a bare title or determiner)."""
    folded = " ".join(text.translate(_QUOTES).lower().split())
    folded = _LEADING.sub("", folded)
    untitled = _TITLE.sub("", folded)
    # a title that is the whole source ("the minister") is the source, not a title
    folded = untitled if untitled else folded
    return _POSSESSIVE.sub("", folded).strip(" ,.")


class SourceTable:
    """Counts claims, denials and offers per folded source, and where each occurs."""

    def __init__(self) -> None:
        self.labels: dict[str, Counter[str]] = defaultdict(Counter)
        self.names: dict[str, Counter[str]] = defaultdict(Counter)
        self.where: dict[str, list[str | int]] = defaultdict(list)

    def add(self, prediction: Prediction, where: str | int) -> None:
        """Count one scored sentence, if it has a source."""
        evidence = prediction.evidence
        if evidence is not None and evidence.source is not None:
            self.count(evidence.source.text, prediction.label.value, where)

    def count(self, source: str, label: str, where: str | int) -> None:
        """Count one claim, denial or offer of `source` (as written) found at `where`."""
        key = fold_source(source)
        if not key or label == Label.FACT.value:
            return
        self.labels[key][label] += 1
        self.names[key][source] += 1
        if where not in self.where[key]:
            self.where[key].append(where)

    def add_all(self, predictions: Iterable[Prediction], where: Iterable[str | int]) -> None:
        for prediction, place in zip(predictions, where, strict=True):
            self.add(prediction, place)

    def rows(self) -> list[SourceCount]:
        """One row per source, the most active first (ties by name)."""
        keys = sorted(self.labels, key=lambda k: (-sum(self.labels[k].values()), k))
        return [
            SourceCount(
                source=key,
                names=[name for name, _ in self.names[key].most_common()],
                claim=self.labels[key][Label.CLAIM.value],
                denial=self.labels[key][Label.DENIAL.value],
                offer=self.labels[key][Label.OFFER.value],
                where=self.where[key],
            )
            for key in keys
        ]
