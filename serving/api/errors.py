"""Error answers: `{"detail": "..."}` with a status and a message that says what to fix.

FastAPI's own messages are written for the developer of the app: a body sent
without `Content-Type: application/json` gets "Input should be a valid
dictionary or object to extract fields from", and one that is not UTF-8 "There
was an error parsing the body". The caller gets told what is wrong instead.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

__all__ = ["LimitError", "check_text", "install_error_handlers"]

JSON_HINT = "send a JSON body with the header Content-Type: application/json"
#: pydantic's error types for a body that is not a JSON object
_NOT_AN_OBJECT = {"model_attributes_type", "dict_type", "model_type"}


class LimitError(Exception):
    """A request the API will not serve as sent: too large (413) or empty (422)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def check_text(text: str, what: str, limit: int, setting: str) -> None:
    """Refuse a text over `limit` characters (413) or with nothing but white space (422)."""
    if len(text) > limit:
        raise LimitError(413, f"{what} has {len(text)} characters > {setting}={limit}")
    if not text.strip():
        raise LimitError(422, f"{what} is empty")


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def on_limit(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, LimitError)
    return JSONResponse(status_code=exc.status, content={"detail": exc.detail})


async def on_invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    body_not_json = any(
        tuple(e.get("loc", ())) == ("body",) and e.get("type") in _NOT_AN_OBJECT for e in errors
    )
    if body_not_json and _content_type(request) != "application/json":
        sent = _content_type(request) or "no Content-Type"
        detail = f"the body was not read as JSON ({sent}): {JSON_HINT}"
        return JSONResponse(status_code=415, content={"detail": detail})
    messages = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in errors]
    return JSONResponse(status_code=422, content={"detail": "; ".join(messages) or "invalid"})


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        where = exc.__cause__.start
        detail = f"the body is not UTF-8 (byte {where}): encode the JSON as UTF-8"
        return JSONResponse(status_code=400, content={"detail": detail})
    return await http_exception_handler(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LimitError, on_limit)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(HTTPException, on_http_error)
