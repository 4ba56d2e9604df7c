"""`claimtype serve`: run the REST API (api/server.py) until SIGTERM."""

from __future__ import annotations

import argparse

from .command import Command
from .options import model_flags, settings_from

__all__ = ["COMMAND"]

LIMITS = (
    ("--idle-timeout", float, "seconds a connection may wait for its next request"),
    ("--request-timeout", float, "seconds to receive a request's headers and body"),
    ("--max-connections", int, "open connections; one more is answered 503"),
    ("--graceful-timeout", float, "seconds SIGTERM waits for requests in flight"),
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    for flag, kind, meaning in LIMITS:
        variable = "CLAIMTYPE_" + flag[2:].upper().replace("-", "_")
        p.add_argument(flag, type=kind, help=f"{meaning} ({variable})")
    model_flags(p)


def run(args: argparse.Namespace) -> int:
    from ..api import create_app, load_predictor
    from ..api.server import serve

    settings = settings_from(args)
    # load (and verify) the model before uvicorn starts: a bad directory is one clear
    # line and exit status 3, and the lifespan does not load it a second time
    serve(settings, create_app(settings, load_predictor(settings)))
    return 0


COMMAND = Command("serve", "run the REST API", add_arguments, run)
