"""API keys, checked on the path and headers before anything reads the request body.

FastAPI reads and parses a body before it runs a route's dependencies, so a key
check written as a dependency answered a malformed body sent without a key with
422, and spent the parsing on anyone. `KeyCheck` is plain ASGI middleware
instead: it sees only the path and the headers, and answers 401 (403 for admin
routes when no admin key is set) before the app receives a byte of the body.

Keys are compared exactly: the credentials are what follows `Bearer` and one
space, or the whole X-API-Key value, byte for byte. Nothing is trimmed beyond
what HTTP itself does not count as part of a header value (the spaces and tabs
around it, which the HTTP parser removes), so `Bearer  key`, a trailing tab or
a trailing no-break space is a different key. Both sides are hashed before
`hmac.compare_digest`, which then always compares equal lengths, and every key
is compared, so the time taken says nothing about which key was close.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from .middleware import send_json

__all__ = ["ADMIN_PREFIX", "Access", "KeyCheck", "presented_key"]

ADMIN_PREFIX = "/v1/admin/"


def _digest(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()


def presented_key(headers: Iterable[tuple[bytes, bytes]]) -> bytes | None:
    """The credentials of `Authorization: Bearer KEY`, else the X-API-Key value, else None."""
    authorization = api_key = None
    for name, value in headers:
        if name == b"authorization" and authorization is None:
            authorization = value
        elif name == b"x-api-key" and api_key is None:
            api_key = value
    if authorization is not None:
        scheme, space, credentials = authorization.partition(b" ")
        if space and scheme.lower() == b"bearer":  # the scheme is case-insensitive (RFC 9110)
            return credentials
    return api_key


@dataclass(frozen=True)
class Access:
    """Who may call what: API keys, admin keys and the paths open without a key."""

    keys: tuple[bytes, ...]
    admin_keys: tuple[bytes, ...]
    public: frozenset[str]

    @classmethod
    def from_keys(cls, keys: list[str], admin_keys: list[str], public: Iterable[str]) -> Access:
        return cls(
            tuple(_digest(k.encode()) for k in keys),
            tuple(_digest(k.encode()) for k in admin_keys),
            frozenset(public),
        )

    @staticmethod
    def matches(presented: bytes | None, digests: tuple[bytes, ...]) -> bool:
        if presented is None:
            return False
        candidate = _digest(presented)
        found = False
        for digest in digests:  # no early exit: every key costs the same
            found |= hmac.compare_digest(candidate, digest)
        return found

    def refusal(self, path: str, headers: Iterable[tuple[bytes, bytes]]) -> tuple[int, str] | None:
        """(status, message) when the request may not go on; None when it may."""
        if path.startswith(ADMIN_PREFIX):
            if not self.admin_keys:
                return 403, "admin routes are off: set CLAIMTYPE_ADMIN_KEYS"
            if not self.matches(presented_key(headers), self.admin_keys):
                return 401, "a valid admin key is required"
            return None
        if not self.keys or path in self.public:
            return None
        if not self.matches(presented_key(headers), self.keys):
            return 401, "a valid API key is required"
        return None


class KeyCheck:
    """ASGI middleware: refuse a request without a valid key before the app reads it."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = self.access.refusal(scope["path"], scope["headers"])
            if refused is not None:
                status, message = refused
                challenge = [(b"www-authenticate", b"Bearer")] if status == 401 else []
                await send_json(send, status, message, challenge)
                return
        await self.app(scope, receive, send)
