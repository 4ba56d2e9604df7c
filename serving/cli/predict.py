"""`claimtype predict`: label sentences given as arguments or on standard input."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from ..labels import LABELS
from .command import Command
from .options import model_flags, predictor_from

if TYPE_CHECKING:
    from ..schemas import Prediction

__all__ = ["COMMAND"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("texts", nargs="*", metavar="TEXT")
    p.add_argument("--json", action="store_true", help="one JSON object a line")
    model_flags(p)


def run(args: argparse.Namespace) -> int:
    texts = args.texts or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not texts:
        raise SystemExit("predict: give sentences as arguments or on standard input")
    predictor = predictor_from(args)
    for text, p in zip(texts, predictor.predict(texts), strict=True):
        if args.json:
            print(json.dumps({"text": text, **p.model_dump(mode="json")}, ensure_ascii=False))
        else:
            scores = "  ".join(f"{k} {p.scores[k]:.3f}" for k in LABELS)
            print(f"{p.label.value:<7} {scores}  {text}{_evidence(p)}")
    return 0


def _evidence(p: Prediction) -> str:
    """'  [source: The ministry; cue: denied]', or nothing for a fact or a label-only model."""
    if p.evidence is None:
        return ""
    spans = [("source", p.evidence.source), ("cue", p.evidence.cue)]
    found = "; ".join(f"{kind}: {span.text}" for kind, span in spans if span is not None)
    return f"  [{found}]" if found else ""


COMMAND = Command(
    "predict", "label sentences given as arguments or on standard input", add_arguments, run
)
