"""The stylesheet and script of the pages, served from the package by name.

Only these two files exist for the server: no path of the request ever reaches the disk, so
there is nothing to traverse.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import Response

_MEDIA_TYPES = {"app.css": "text/css", "app.js": "text/javascript"}


@cache
def _asset(name: str) -> bytes:
    return files("actors.web").joinpath("static", name).read_bytes()


def asset(request: Request) -> Response:
    """``/static/app.css`` or ``/static/app.js`` (routes name them; nothing else is served)."""
    name = request.url.path.rsplit("/", 1)[-1]
    return Response(
        _asset(name),
        media_type=_MEDIA_TYPES[name],
        headers={"cache-control": "no-cache"},
    )


def no_icon(request: Request) -> Response:
    """``/favicon.ico``: none, said without an error in the browser's console."""
    return Response(status_code=204)
