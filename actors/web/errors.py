"""What the dashboard refuses, as ``WorkactorsError`` subclasses that map onto HTTP statuses."""

from __future__ import annotations

from provenance import WorkactorsError


class WebError(WorkactorsError):
    """Base of the dashboard's errors; ``status`` is the HTTP status it answers with."""

    status = 500


class BadRequestError(WebError, ValueError):
    """A query parameter or form field is malformed (the message names it and what it takes)."""

    status = 400


class ForbiddenError(WebError, PermissionError):
    """A write without the token, or a request from another site (CSRF)."""

    status = 403


class ServeError(WebError):
    """The server cannot start as asked (a public address without a token, a busy port)."""
