"""`claimtype serve`: uvicorn as a process that runs for months.

What it adds to a plain `uvicorn.run`: the connection limits of
serving/connections.py, uvicorn's own log lines in the app's format with its
access log off (the app logs each request once), room in the file-descriptor
limit for the connection cap, and exit status 0 after a graceful stop. uvicorn
re-raises SIGTERM once it has finished the requests in flight, so the process
dies of the signal (status 143) and a supervisor cannot tell a clean stop from
a crash.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn

from ..settings import Settings
from .connections import ServerConfig
from .observability import server_log_config

__all__ = ["Server", "serve", "server_config"]

logger = logging.getLogger("claimtype")

#: descriptors a server needs besides its connections: model files, SQLite, pipes, sockets
SPARE_FDS = 64


class Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """SIGINT and SIGTERM start a graceful stop; once it is done, return, not re-raise."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def server_config(settings: Settings, app: Any) -> ServerConfig:
    return ServerConfig(
        app,
        request_timeout=settings.request_timeout,
        max_connections=settings.max_connections,
        host=settings.host,
        port=settings.port,
        timeout_keep_alive=settings.idle_timeout,
        timeout_graceful_shutdown=settings.graceful_timeout,
        log_config=server_log_config(settings.log_json),
        access_log=False,
        lifespan="on",
    )


def _room_for_connections(max_connections: int) -> None:
    """Raise the soft open-files limit to fit the cap, or say that it cannot.

    Past the limit, accept() fails and asyncio stops accepting for a second at a time,
    for everybody; the cap is meant to refuse the extra connections instead.
    """
    try:
        import resource
    except ImportError:  # not POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = max_connections + SPARE_FDS
    if soft != resource.RLIM_INFINITY and soft < needed:
        wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        if wanted < needed:
            logger.warning(
                f"open-files limit {hard} is below max_connections={max_connections} + "
                f"{SPARE_FDS}: lower max_connections or raise the limit (ulimit -n)"
            )


def serve(settings: Settings, app: Any) -> None:
    """Run `app` until SIGTERM or SIGINT has stopped it gracefully."""
    config = server_config(settings, app)
    if settings.log_json:
        logging.captureWarnings(True)
    _room_for_connections(settings.max_connections)
    Server(config).run()
