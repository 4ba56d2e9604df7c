"""Build the parser from the command modules and run the chosen command."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from importlib.metadata import entry_points

from . import bench, feedback, models, predict, rollback, score, serve
from .command import Command, Group

__all__ = ["ENTRY_POINTS", "build_parser", "commands", "main"]

#: where other parts of the distribution (claimtype.training) register their commands
ENTRY_POINTS = "claimtype.commands"
RUNTIME: tuple[Command | Group, ...] = (
    predict.COMMAND,
    score.COMMAND,
    bench.GROUP,
    serve.COMMAND,
    feedback.GROUP,
    rollback.COMMAND,
    models.COMMAND,
)


def commands() -> Iterator[Command | Group]:
    """The runtime commands, then those registered under the entry point group."""
    yield from RUNTIME
    for entry in sorted(entry_points(group=ENTRY_POINTS), key=lambda e: e.name):
        yield from entry.load()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="claimtype",
        description="Label news sentences as fact, claim, denial or offer. "
        "Settings also come from CLAIMTYPE_* environment variables.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in commands():
        command.register(sub)
    return parser


def _quiet_stdout() -> None:
    """After a closed pipe: no second error when Python flushes stdout at exit."""
    with contextlib.suppress(OSError, ValueError):  # stdout may not be a real file
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "passthrough", False):  # only `bench` passes options on
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    try:
        status: int = args.func(args)
        return status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `claimtype evaluate ... | head`: the reader left, not an error
        _quiet_stdout()
        return 141
    except Exception as exc:
        from ..artefact import ModelDirError

        if isinstance(exc, ModelDirError):
            print(f"claimtype: {exc}", file=sys.stderr)
            return 3
        raise
