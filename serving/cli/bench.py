"""`claimtype bench score`: benchmarks/bench_score.py, from a source checkout."""

from __future__ import annotations

import argparse
import runpy
from pathlib import Path

from .command import Command, Group

__all__ = ["GROUP"]

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_score.py"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """None: every option goes on to bench_score.py."""


def run(args: argparse.Namespace) -> int:
    if not SCRIPT.is_file():
        raise SystemExit("bench: benchmarks/bench_score.py is in the source checkout only")
    return int(runpy.run_path(str(SCRIPT), run_name="claimtype_bench")["main"](args.extra) or 0)


GROUP = Group(
    "bench",
    "speed benchmarks (source checkout only)",
    [Command("score", "claimtype score vs optimum and PyTorch", add_arguments, run, True)],
)
