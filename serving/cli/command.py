"""What a subcommand is: a name, a help line, its flags and what it runs."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

__all__ = ["Command", "Group", "Subparsers"]

#: argparse's own name for what add_subparsers returns
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


@dataclass(frozen=True)
class Command:
    """A subcommand: `add_arguments` declares its flags, `run` does the work (exit status)."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    #: pass unknown options on to `run` (args.extra) instead of refusing them
    passthrough: bool = False

    def register(self, sub: Subparsers) -> None:
        parser = sub.add_parser(
            self.name, help=self.help, description=self.help, add_help=not self.passthrough
        )
        self.add_arguments(parser)
        parser.set_defaults(func=self.run, passthrough=self.passthrough)


@dataclass(frozen=True)
class Group:
    """A subcommand with subcommands of its own (`claimtype data add`)."""

    name: str
    help: str
    commands: Sequence[Command] = field(default_factory=tuple)

    def register(self, sub: Subparsers) -> None:
        parser = sub.add_parser(self.name, help=self.help, description=self.help)
        inner = parser.add_subparsers(dest=f"{self.name}_command", required=True, metavar="ACTION")
        for command in self.commands:
            command.register(inner)
