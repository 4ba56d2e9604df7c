"""Which paths a caller without a key may use when keys are on."""

from __future__ import annotations

from fastapi import FastAPI

from ..settings import Settings
from .viewer import ASSETS

__all__ = ["public_paths"]


def public_paths(settings: Settings, app: FastAPI) -> set[str]:
    """Health and metrics unless they are to need a key, and the pages opened by public_pages."""
    pages = settings.pages()
    paths = set()
    if not settings.auth_health:
        paths |= {"/healthz", "/readyz"}
    if not settings.auth_metrics:
        paths.add("/metrics")
    if "viewer" in pages and settings.viewer:
        paths |= {"/"} | {f"/static/{name}" for name in ASSETS if name != "index.html"}
    if "docs" in pages:
        docs = (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url)
        paths |= {url for url in docs if url is not None}
    if "openapi" in pages and app.openapi_url:
        paths.add(app.openapi_url)
    return paths
