"""The article viewer: one static page at `/` that calls the public API from the browser.

The page is plain HTML, CSS and JavaScript shipped as package data (serving/static),
so the server works air-gapped: no CDN, no web fonts, no build step. Its
Content-Security-Policy lets the browser talk to this origin only, so a future
edit that pulls in a remote script or font fails loudly in the browser instead of
leaking requests. The page uses the same routes and the same auth as any other
client; serving it needs no key, because the page holds no data until the API
answers.

The one thing the server writes into the page is what the four labels mean,
from `claimtype.labels.DEFINITIONS`: a first visit explains them before any API
call, which may need a key the reader has not given yet.
"""

from __future__ import annotations

import hashlib
import html
from importlib.resources import files

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from ..labels import DEFINITIONS, LABELS

__all__ = ["ASSETS", "CSP", "DEFINITIONS_MARK", "viewer_router"]

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


#: where index.html takes the label definitions (inside its <dl id="definitions">)
DEFINITIONS_MARK = b"<!-- label definitions -->"


def _definitions() -> bytes:
    """One <div> of <dt> and <dd> a label, in the model's output order."""
    items = (
        f'<div data-label="{name}"><dt><span class="tag l-{name}">{name}</span></dt>'
        f"<dd>{html.escape(DEFINITIONS[name])}</dd></div>"
        for name in LABELS
    )
    return "".join(items).encode()


def _load() -> dict[str, tuple[bytes, str]]:
    """Read every asset once, the page with its definitions, with a content hash as its ETag."""
    static = files("claimtype.api") / "static"
    out = {}
    for name in ASSETS:
        body = (static / name).read_bytes()
        if name == "index.html":
            if DEFINITIONS_MARK not in body:
                raise RuntimeError(f"index.html has lost its {DEFINITIONS_MARK.decode()} mark")
            body = body.replace(DEFINITIONS_MARK, _definitions())
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
