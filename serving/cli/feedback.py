"""`claimtype feedback export`: users' corrections (POST /v1/feedback) as labelled JSONL."""

from __future__ import annotations

import argparse
from pathlib import Path

from .command import Command, Group

__all__ = ["GROUP"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, metavar="FILE.jsonl")
    p.add_argument("--db", help="feedback database (default CLAIMTYPE_FEEDBACK_DB)")


def run(args: argparse.Namespace) -> int:
    from ..feedback import FeedbackStore, export_feedback
    from ..settings import Settings

    db = Path(args.db) if args.db else Settings().feedback_db
    if not db.is_file():
        raise SystemExit(f"feedback export: {db} does not exist (no feedback received yet?)")
    read, written = export_feedback(FeedbackStore(db), Path(args.out))
    print(f"{db}: {read} corrections, {written} sentences written to {args.out}")
    print(f"next: claimtype data add {args.out} --dry-run")
    return 0


GROUP = Group(
    "feedback",
    "users' corrections sent to POST /v1/feedback",
    [Command("export", "write corrections as labelled JSONL", add_arguments, run)],
)
