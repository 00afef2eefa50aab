"""Who may read and who may write: the token, its cookie, CSRF and same-origin checks, and
the headers every answer carries.

- Reads are open on a loopback address and need the token anywhere else.
- Every write (a ``POST``) needs the token: as ``Authorization: Bearer T`` (scripts), or as the
  cookie set by ``/login`` or ``?token=T`` together with the page's CSRF token and an
  ``Origin`` (or ``Referer``) of this very server (browsers).
- On a loopback address the ``Host`` header must name the loopback too, so that a web page on
  another site cannot reach the dashboard through DNS rebinding.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from actors.web.errors import ForbiddenError
from actors.web.settings import WebSettings, is_loopback

#: Paths anyone may load before signing in: the sign-in page and what it needs.
PUBLIC_PATHS = frozenset({"/login", "/static/app.css", "/static/app.js", "/favicon.ico"})
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


def bearer_token(headers: Headers) -> str | None:
    """The token of an ``Authorization: Bearer T`` header, if there is one."""
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def signed_in(request: Request, settings: WebSettings) -> bool:
    """True if the request carries the token, by header or cookie."""
    return settings.token_matches(bearer_token(request.headers)) or settings.token_matches(
        request.cookies.get(settings.cookie_name)
    )


def same_origin(request: Request) -> bool:
    """True if the browser says the request comes from a page of this server.

    ``Origin`` is what browsers send with a POST; a missing one falls back to ``Referer``; a
    request with neither is refused, since a browser form always sends one of them here
    (``Referrer-Policy: same-origin``).
    """
    host = request.headers.get("host", "")
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    return parts.scheme in ("http", "https") and parts.netloc == host


def check_write(request: Request, settings: WebSettings, csrf: str | None) -> None:
    """Let a write through, or say why not.

    Raises:
        ForbiddenError: without the token, or, for a browser's cookie, without the CSRF token
            or from another origin.
    """
    if settings.token_matches(bearer_token(request.headers)):
        return
    if not settings.token_matches(request.cookies.get(settings.cookie_name)):
        raise ForbiddenError(
            "this needs the dashboard's token: sign in at /login (the token is printed by "
            "`workactors web`), or send `Authorization: Bearer TOKEN`"
        )
    if not same_origin(request):
        raise ForbiddenError(
            "refused: the request does not come from a page of this dashboard (Origin/Referer "
            "missing or from another site)"
        )
    if not settings.csrf_matches(csrf or request.headers.get(CSRF_HEADER)):
        raise ForbiddenError(
            "refused: the form's CSRF token is missing or wrong; reload the page and try again"
        )


def set_token_cookie(response: Response, settings: WebSettings) -> None:
    """Sign the browser in: the token in an HttpOnly, same-site-only cookie for this server."""
    response.set_cookie(
        settings.cookie_name, settings.token, httponly=True, samesite="strict", path="/"
    )


def _host_allowed(headers: Headers) -> bool:
    host = headers.get("host", "")
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return is_loopback(name)


class GuardMiddleware:
    """Refuses foreign ``Host`` headers on loopback, unsigned reads off loopback, and adds the
    security headers to every answer. Pure ASGI, so that event streams pass through as they
    are produced."""

    def __init__(self, app: ASGIApp, settings: WebSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = self._token_in_url(request) or self._refusal(request)
        if refusal is not None:
            await refusal(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)

    def _token_in_url(self, request: Request) -> Response | None:
        """``?token=T`` (the link ``workactors web`` prints): set the cookie and reload the page
        without the token in its address, so that it stays out of the history."""
        if request.method != "GET" or "token" not in request.query_params:
            return None
        if not self.settings.token_matches(request.query_params["token"]):
            return PlainTextResponse(
                "refused: wrong token; use the link `workactors web` printed", status_code=403
            )
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        target = request.url.path + (f"?{urlencode(kept)}" if kept else "")
        response = Response(status_code=303, headers={"location": target})
        set_token_cookie(response, self.settings)
        return response

    def _refusal(self, request: Request) -> Response | None:
        if self.settings.loopback and not _host_allowed(request.headers):
            return PlainTextResponse(
                "refused: this dashboard answers only to localhost / 127.0.0.1", status_code=421
            )
        if self.settings.loopback or request.url.path in PUBLIC_PATHS:
            return None
        if signed_in(request, self.settings):
            return None
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "sign in first: send the token"}, status_code=401)
        return Response(status_code=303, headers={"location": "/login"})
