"""Errors as answers: JSON under ``/api/`` and ``/events/``, an HTML page elsewhere; the status
says what kind of error, the message what was wrong and what to do."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actors.cli.queries import NotAProcessError
from actors.web.errors import WebError
from actors.web.pages import page
from provenance import WorkactorsError
from provenance.errors import NotExistentError
from provenance.log import get_logger

log = get_logger(__name__)


def _status(exc: Exception) -> int:
    if isinstance(exc, NotExistentError | NotAProcessError):
        return 404
    if isinstance(exc, WebError):
        return exc.status
    if isinstance(exc, HTTPException):
        return exc.status_code
    return 500


def _message(request: Request, exc: Exception, status: int) -> str:
    if isinstance(exc, WorkactorsError):
        return str(exc)
    if status == 404:
        return f"nothing at {request.url.path}; the process list is at /"
    if status == 405:
        return f"{request.method} is not allowed on {request.url.path}"
    if isinstance(exc, HTTPException):
        return str(exc.detail)
    return "the dashboard failed on this request; its log says why"


def error_answer(request: Request, exc: Exception) -> Response:
    """The answer to any error raised while handling ``request``."""
    status = _status(exc)
    if status >= 500:
        log.error("web.request_failed", path=request.url.path, error=repr(exc))
    message = _message(request, exc, status)
    path = request.url.path
    if path.startswith(("/api/", "/events/")) or "application/json" in request.headers.get(
        "accept", ""
    ):
        return JSONResponse({"error": message, "status": status}, status_code=status)
    return page(request, "error.html", status=status, message=message, code=status)
