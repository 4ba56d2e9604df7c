"""`claimtype models`: the installed model versions, the current one starred."""

from __future__ import annotations

import argparse
from pathlib import Path

from .command import Command

__all__ = ["COMMAND"]

COLUMNS = {"dev": "dev F1", "dev_wire": "wire F1", "challenge": "chall. F1"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models", default="models")
    p.add_argument("--json", action="store_true")


def _figure(x: float | None, width: int) -> str:
    return f"{x:>{width}.4f}" if x is not None else f"{'-':>{width}}"


def run(args: argparse.Namespace) -> int:
    from ..registry import read_registry

    registry = read_registry(Path(args.models))
    if registry is None:
        print(f"{args.models}: no registry yet (claimtype promote creates it)")
        return 0
    if args.json:
        print(registry.model_dump_json(indent=2))
        return 0
    print(f"  {'version':<14}{'parent':<14}" + "".join(f"{c:>10}" for c in COLUMNS.values()))
    for v in registry.versions.values():
        mark = "*" if v.version == registry.current else " "
        f1 = "".join(_figure(v.metrics.get(s, {}).get("macro_f1"), 10) for s in COLUMNS)
        forced = "  (forced)" if v.forced else ""
        print(f"{mark} {v.version:<14}{v.parent or '-':<14}{f1}  {v.dir}{forced}")
    return 0


COMMAND = Command("models", "list installed model versions (* is current)", add_arguments, run)
