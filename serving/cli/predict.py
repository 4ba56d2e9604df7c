"""`claimtype predict`: label sentences given as arguments or on standard input."""

from __future__ import annotations

import argparse
import json
import sys

from ..labels import LABELS
from .command import Command
from .options import model_flags, predictor_from

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
            print(f"{p.label.value:<7} {scores}  {text}")
    return 0


COMMAND = Command(
    "predict", "label sentences given as arguments or on standard input", add_arguments, run
)
