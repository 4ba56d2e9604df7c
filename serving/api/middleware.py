"""ASGI middleware: body-size limit, request ids, latency metrics and the access log.

Written as plain ASGI rather than BaseHTTPMiddleware: it adds no extra task per
request, which matters when a whole request takes a few milliseconds.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .observability import ApiMetrics

__all__ = ["DRAIN_BYTES", "TIMED_OUT", "BodyLimit", "Observe", "drain", "route_label", "send_json"]

#: scope key set by the connection (api/connections.py) when a request's body did not
#: arrive in time: it has answered 408 itself, and the app only saw a disconnect
TIMED_OUT = "claimtype.timed_out"

#: body bytes read and dropped before a 413, so that the client can read the answer
DRAIN_BYTES = 16 * 1024 * 1024


async def send_json(
    send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer `{"detail": ...}` with `status` from middleware, before the app runs."""
    body = json.dumps({"detail": detail}).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body)),
            *(headers or []),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body})


async def drain(receive: Receive, limit: int = DRAIN_BYTES) -> None:
    """Read and drop the rest of a request body, up to `limit` bytes.

    A server that answers and closes while the client is still writing leaves
    unread bytes in its socket, and the kernel then resets the connection: a
    client that writes its whole body before reading (Python's urllib) gets
    "connection reset" instead of the answer.
    """
    drained = 0
    while drained <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return
        drained += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


class BodyLimit:
    """413 for bodies over the limit, whether or not they declare a Content-Length.

    A chunked body is only found to be too large while the app reads it; the 413
    is raised there as an HTTPException, the one error FastAPI lets through from
    a body read as it is (any other becomes "400 error parsing the body").
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.message = f"request body over max_body_bytes={limit}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            # a client waiting for 100-continue has not sent the body and will not
            waiting = headers.get(b"expect", b"").lower() == b"100-continue"
            if not waiting and declared.isdigit() and int(declared) <= DRAIN_BYTES:
                await drain(receive)
            await send_json(send, 413, self.message)
            return
        await self.app(scope, self._limited(receive), send)

    def _limited(self, receive: Receive) -> Receive:
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    if message.get("more_body", False):
                        await drain(receive)
                    raise HTTPException(413, self.message)
            return message

        return limited_receive


def route_label(scope: Scope, routes: Sequence[BaseRoute]) -> str:
    """The path template of the route that served the request, for metrics labels.

    Starlette puts the matched route in the scope; a request answered before
    routing (a missing key) is matched here. Anything else is "other", so that
    scanners' paths cannot grow the metrics without bound.
    """
    route = scope.get("route")
    if route is None:
        route = next((r for r in _flat(routes) if r.matches(scope)[0] is Match.FULL), None)
    return getattr(route, "path", None) or "other"


def _flat(routes: Sequence[BaseRoute]) -> Iterator[BaseRoute]:
    """Routes with included routers opened up (newer FastAPI keeps them whole; no prefixes here)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _flat(inner.routes)
        else:
            yield route


@dataclass
class _Answer:
    """What the app sent back, as far as the access log and metrics care."""

    status: int = 500
    sent: int = 0
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def watch(self, send: Send) -> Send:
        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                message.setdefault("headers", []).append(
                    (b"x-request-id", self.request_id.encode())
                )
            elif message["type"] == "http.response.body":
                self.sent += len(message.get("body", b""))
            await send(message)

        return send_with_id


class Observe:
    """Request id (echoed as X-Request-ID), latency and status metrics, one log line.

    The log line is the access log: the server's own is turned off (api/server.py),
    so each request is logged once, with the fields an access log has.
    """

    def __init__(
        self, app: ASGIApp, metrics: ApiMetrics, logger: logging.Logger, routes: Sequence[BaseRoute]
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.logger = logger
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        answer = _Answer()
        incoming = dict(scope["headers"]).get(b"x-request-id", b"")
        if incoming:
            answer.request_id = incoming.decode("latin-1")[:64]
        scope.setdefault("state", {})["request_id"] = answer.request_id
        try:
            await self.app(scope, receive, answer.watch(send))
        finally:
            if scope.get(TIMED_OUT):  # the connection answered; what the app sent went nowhere
                answer.status, answer.sent = 408, 0
            self._record(scope, answer, time.perf_counter() - start)

    def _record(self, scope: Scope, answer: _Answer, elapsed: float) -> None:
        route = route_label(scope, self.routes)
        self.metrics.requests.labels(route=route, status=str(answer.status)).inc()
        self.metrics.latency.labels(route=route).observe(elapsed)
        client = scope.get("client")
        agent = dict(scope["headers"]).get(b"user-agent", b"")
        self.logger.info(
            f"{scope['method']} {scope['path']} {answer.status}",
            extra={
                "request_id": answer.request_id,
                "client": f"{client[0]}:{client[1]}" if client else None,
                "method": scope["method"],
                "path": scope["path"],
                "http_version": scope.get("http_version"),
                "status": answer.status,
                "bytes": answer.sent,
                "ms": round(elapsed * 1000, 2),
                "user_agent": agent.decode("latin-1")[:200],
            },
        )
