"""`claimtype`: one entry point, one module per subcommand.

Each module here is a runtime command: `add_arguments` declares its flags
beside `run`, which is a thin wrapper over plain functions that tests call
directly. The training commands come from `claimtype.training.cli`, found
through the `claimtype.commands` entry point, so this package never imports
the training side. Heavy imports happen inside `run`, so `--help` is instant.
"""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
