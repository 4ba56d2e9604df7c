"""The article viewer: one static page at `/` that calls the public API from the browser.

The page is plain HTML, CSS and JavaScript shipped as package data (serving/static),
so the server works air-gapped: no CDN, no web fonts, no build step. Its
Content-Security-Policy lets the browser talk to this origin only, so a future
edit that pulls in a remote script or font fails loudly in the browser instead of
leaking requests. The page uses the same routes and the same auth as any other
client; serving it needs no key, because the page holds no data until the API
answers.
"""

from __future__ import annotations

import hashlib
from importlib.resources import files

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

__all__ = ["ASSETS", "CSP", "viewer_router"]

#: file name in serving/static -> media type; nothing else is served (no path lookups)
ASSETS: dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)


def _load() -> dict[str, tuple[bytes, str]]:
    """Read every asset once, with a content hash as its ETag."""
    static = files("claimtype.api") / "static"
    out = {}
    for name in ASSETS:
        body = (static / name).read_bytes()
        out[name] = (body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    return out


def viewer_router() -> APIRouter:
    """Routes for the page and its two assets; kept out of the OpenAPI schema."""
    assets = _load()
    router = APIRouter(include_in_schema=False)

    def serve(name: str, request: Request) -> Response:
        body, etag = assets[name]
        headers = {
            "ETag": etag,
            # revalidate every time: an upgraded server must not run yesterday's app.js
            "Cache-Control": "no-cache",
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=ASSETS[name], headers=headers)

    @router.api_route("/", methods=["GET", "HEAD"])
    async def page(request: Request) -> Response:
        return serve("index.html", request)

    @router.api_route("/static/{name}", methods=["GET", "HEAD"])
    async def asset(name: str, request: Request) -> Response:
        if name not in ASSETS or name == "index.html":
            raise HTTPException(404, f"no such asset: {name}")
        return serve(name, request)

    return router
