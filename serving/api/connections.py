"""Connection limits that uvicorn's HTTP/1.1 protocol does not have.

Measured on uvicorn's h11 protocol: a connection that never sends a request is
never closed (its keep-alive timer starts only after a first response), and a
client sending its headers or body a byte at a time keeps its connection for
as long as it likes. Each costs a file descriptor and a little memory, so
enough of them lock everybody out. `GuardedProtocol` adds, per connection:

- an idle timeout from the moment it opens, not only between requests
  (uvicorn's keep-alive timer, armed at once);
- a deadline to receive a whole request, headers and body, counted from its
  first byte; a request that misses it is answered 408 and the connection
  closed (a body still trickling in after the answer is cut off the same way);
- a cap on open connections: one more is answered 503 with Retry-After and
  closed at once, and the connections already open carry on.

`ServerConfig` is uvicorn's Config with the two settings uvicorn lacks.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .middleware import TIMED_OUT

__all__ = ["GuardedProtocol", "ServerConfig"]

logger = logging.getLogger("claimtype")


def _answer(status: int, reason: str, detail: str, *headers: bytes) -> bytes:
    """A complete response that closes the connection, written before h11 has a request."""
    body = json.dumps({"detail": detail}).encode()
    head = [
        b"HTTP/1.1 %d %s" % (status, reason.encode()),
        b"content-type: application/json",
        b"content-length: %d" % len(body),
        b"connection: close",
        *headers,
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


class ServerConfig(uvicorn.Config):
    """uvicorn's Config, serving `GuardedProtocol`, with its two extra limits."""

    def __init__(
        self, app: Any, *, request_timeout: float, max_connections: int, **kwargs: Any
    ) -> None:
        super().__init__(app, http=GuardedProtocol, **kwargs)
        self.request_timeout = request_timeout
        self.max_connections = max_connections


class GuardedProtocol(H11Protocol):
    """uvicorn's h11 protocol with an idle timeout from the start, a request deadline and a cap."""

    config: ServerConfig

    def __init__(self, config: ServerConfig, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.config.max_connections:
            logger.warning(
                f"connection refused: max_connections={self.config.max_connections} are open",
                extra={"event": "refused", "client": self._client()},
            )
            detail = f"too many open connections (max_connections={self.config.max_connections})"
            transport.write(_answer(503, "Service Unavailable", detail, b"retry-after: 1"))
            transport.close()
            return
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._receiving():
            if self._deadline is None:
                self._deadline = self.loop.call_later(
                    self.config.request_timeout, self._receive_timed_out
                )
        else:
            self._cancel_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    def _client(self) -> str:
        return f"{self.client[0]}:{self.client[1]}" if self.client else ""

    def _receiving(self) -> bool:
        """A request has begun and not all of it has arrived: headers or body are missing."""
        state = self.conn.their_state
        return state is h11.SEND_BODY or (state is h11.IDLE and bool(self.conn.trailing_data[0]))

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _receive_timed_out(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        cycle = self.cycle if self.conn.their_state is h11.SEND_BODY else None
        if cycle is None or not cycle.response_started:  # nobody has answered this request yet
            detail = f"request not received within request_timeout={self.config.request_timeout}s"
            if cycle is None:  # the headers never came: no app saw it, so log it here
                logger.warning(detail, extra={"event": "timeout", "client": self._client()})
            else:  # the app is waiting for the body: it sees a disconnect, Observe logs 408
                cycle.scope[TIMED_OUT] = True  # type: ignore[literal-required]
            self.transport.write(_answer(408, "Request Timeout", detail))
        self.transport.close()
