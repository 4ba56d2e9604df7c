"""ASGI middleware: body-size limit, request ids, latency metrics and the access log.

Written as plain ASGI rather than BaseHTTPMiddleware: it adds no extra task per
request, which matters when a whole request takes a few milliseconds.
"""

from __future__ import annotations

import json
import logging
import time
import uuid

from .observability import ApiMetrics

__all__ = ["TIMED_OUT", "BodyLimit", "Observe", "send_json"]

#: scope key set by the connection (serving/connections.py) when a request's body did not
#: arrive in time: it has answered 408 itself, and the app only saw a disconnect
TIMED_OUT = "claimtype.timed_out"

_ROUTES = frozenset(
    {
        "/",
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/classify",
        "/v1/classify/article",
        "/v1/model",
        "/v1/admin/reload",
        "/v1/feedback",
        "/docs",
        "/openapi.json",
    }
)


class _TooLarge(Exception):
    pass


async def send_json(  # type: ignore[no-untyped-def]
    send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer `{"detail": ...}` with `status` from middleware, before the app runs."""
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """413 for bodies over the limit, whether or not they declare a Content-Length."""

    def __init__(self, app, limit: int) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"request body over max_body_bytes={self.limit}"
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await send_json(send, 413, message)
            return
        received = 0
        started = False

        async def limited_receive():  # type: ignore[no-untyped-def]
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return msg

        async def tracking_send(msg) -> None:  # type: ignore[no-untyped-def]
            nonlocal started
            started = started or msg["type"] == "http.response.start"
            await send(msg)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await send_json(send, 413, message)


class Observe:
    """Request id (echoed as X-Request-ID), latency and status metrics, one log line.

    The log line is the access log: the server's own is turned off (serving/server.py),
    so each request is logged once, with the fields an access log has.
    """

    def __init__(self, app, metrics: ApiMetrics, logger: logging.Logger) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.metrics = metrics
        self.logger = logger

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        headers = dict(scope["headers"])
        incoming = headers.get(b"x-request-id", b"")
        request_id = incoming.decode("latin-1")[:64] if incoming else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        sent = 0

        async def send_with_id(msg) -> None:  # type: ignore[no-untyped-def]
            nonlocal status, sent
            if msg["type"] == "http.response.start":
                status = msg["status"]
                msg.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            elif msg["type"] == "http.response.body":
                sent += len(msg.get("body", b""))
            await send(msg)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            if scope.get(TIMED_OUT):  # the connection answered; what the app sent went nowhere
                status, sent = 408, 0
            route = scope["path"] if scope["path"] in _ROUTES else "other"
            self.metrics.requests.labels(route=route, status=str(status)).inc()
            self.metrics.latency.labels(route=route).observe(elapsed)
            client = scope.get("client")
            agent = headers.get(b"user-agent", b"")
            self.logger.info(
                f"{scope['method']} {scope['path']} {status}",
                extra={
                    "request_id": request_id,
                    "client": f"{client[0]}:{client[1]}" if client else None,
                    "method": scope["method"],
                    "path": scope["path"],
                    "http_version": scope.get("http_version"),
                    "status": status,
                    "bytes": sent,
                    "ms": round(elapsed * 1000, 2),
                    "user_agent": agent.decode("latin-1")[:200],
                },
            )
