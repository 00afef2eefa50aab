"""Serving the dashboard with uvicorn: on a socket bound here first (so that a busy port is a
clear error, and port 0 picks a free one), in the foreground or in a background thread."""

from __future__ import annotations

import socket
import threading
from dataclasses import replace

import uvicorn
from starlette.applications import Starlette

from actors.runtime import Runtime
from actors.web.app import create_app
from actors.web.errors import ServeError
from actors.web.settings import WebSettings
from actors.web.state import WebState

#: Seconds open event streams get to end when the server stops.
GRACEFUL_SHUTDOWN = 1
#: Seconds a background server gets to start or stop.
START_TIMEOUT = 30.0


def bind(settings: WebSettings) -> tuple[socket.socket, WebSettings]:
    """A listening socket for ``settings``, and the settings with the port it got.

    Raises:
        ServeError: if the address cannot be used (port taken, unknown host, no permission).
    """
    try:
        info = socket.getaddrinfo(settings.host, settings.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ServeError(f"cannot listen on {settings.host!r}: {exc.strerror}") from None
    family, kind, proto, _name, address = info[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ServeError(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}; "
            "choose another --port (or stop what uses it)"
        ) from None
    sock.set_inheritable(True)
    return sock, replace(settings, port=sock.getsockname()[1])


def url_of(settings: WebSettings, *, with_token: bool = False) -> str:
    """The address of the dashboard, optionally with the sign-in token in it."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    shown = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{settings.port}/"
    return f"{base}?token={settings.token}" if with_token else base


class _Server(uvicorn.Server):
    """uvicorn's server, which first ends the dashboard's event streams when it stops: they
    would otherwise hold their connections open until cancelled, with a traceback each."""

    def __init__(self, app: Starlette) -> None:
        super().__init__(
            uvicorn.Config(
                app,
                log_level="warning",
                access_log=False,
                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
                lifespan="on",
            )
        )
        self._app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        state: WebState | None = getattr(self._app.state, "web", None)
        if state is not None:
            await state.watcher.close()
        await super().shutdown(sockets)


def _server(app: Starlette) -> uvicorn.Server:
    return _Server(app)


def serve(sock: socket.socket, settings: WebSettings) -> None:
    """Serve on ``sock`` until interrupted (Ctrl-C or SIGTERM)."""
    _server(create_app(settings)).run(sockets=[sock])


class BackgroundServer:
    """A dashboard served from a thread of this process: for notebooks, tests and benchmarks.

    Use as a context manager; ``url`` is its address once entered.
    """

    def __init__(self, settings: WebSettings, runtime: Runtime | None = None) -> None:
        self._sock, self.settings = bind(settings)
        #: The application served; its ``state.web`` holds the runtime and change watcher.
        self.app = create_app(self.settings, runtime)
        self._server = _server(self.app)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            daemon=True,
            name=f"workactors-web-{self.settings.port}",
        )

    @property
    def url(self) -> str:
        """``http://HOST:PORT/``."""
        return url_of(self.settings)

    def __enter__(self) -> BackgroundServer:
        self._thread.start()
        ready = threading.Event()
        # uvicorn sets ``started`` from its own loop; wait on it without sleeping blindly.
        for _ in range(int(START_TIMEOUT / 0.01)):
            if self._server.started or not self._thread.is_alive():
                break
            ready.wait(0.01)
        if not self._server.started:
            self.close()
            raise ServeError("the dashboard did not start; the log says why")
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and wait for the thread (open streams get ``GRACEFUL_SHUTDOWN``)."""
        self._server.should_exit = True
        self._thread.join(START_TIMEOUT)
        self._sock.close()
