"""`claimtype rollback`: make the previous model version current again."""

from __future__ import annotations

import argparse
from pathlib import Path

from .command import Command
from .remote import reload_server

__all__ = ["COMMAND"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models", default="models")
    p.add_argument("--note", default="")
    p.add_argument("--reload", metavar="URL", help="then hot-reload the server at URL")


def run(args: argparse.Namespace) -> int:
    from ..registry import rollback

    models = Path(args.models)
    old, new = rollback(models, args.note)
    print(f"current: {new.version} in {models / new.dir} (was {old.version})")
    if args.reload:
        reload_server(args.reload, models / new.dir)
    return 0


COMMAND = Command("rollback", "make the previous model version current again", add_arguments, run)
