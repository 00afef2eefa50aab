"""The web dashboard: ``workactors web`` serves the process list, each process, the provenance
graph around any node and the daemon, with a JSON API behind them (Starlette on uvicorn)."""

from __future__ import annotations

from actors.web.app import create_app
from actors.web.errors import BadRequestError, ForbiddenError, ServeError, WebError
from actors.web.server import BackgroundServer, bind, serve, url_of
from actors.web.settings import WebSettings

__all__ = [
    "BackgroundServer",
    "BadRequestError",
    "ForbiddenError",
    "ServeError",
    "WebError",
    "WebSettings",
    "bind",
    "create_app",
    "serve",
    "url_of",
]
