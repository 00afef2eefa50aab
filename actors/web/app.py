"""The dashboard as an ASGI application: its routes, its guard and its lifetime.

``create_app`` opens a ``Runtime`` on the home and database it is given when the server starts
(or uses the one handed to it) and shuts it down when the server stops. Routes are the only
things served: anything else is a 404.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from actors.runtime import Runtime
from actors.web import api, assets, events, openapi, pages
from actors.web.answers import error_answer
from actors.web.live import ChangeWatcher, fingerprint_reader
from actors.web.security import GuardMiddleware
from actors.web.settings import WebSettings
from actors.web.state import WebState
from actors.web.templating import make_templates
from provenance import WorkactorsError

ROUTES = [
    Route("/", pages.processes_page),
    Route("/processes/{pk:int}", pages.process_page),
    Route("/nodes/{pk:int}", pages.node_page),
    Route("/nodes/{pk:int}/graph.svg", pages.node_graph),
    Route("/daemon", pages.daemon_page),
    Route("/login", pages.login_page, methods=["GET"]),
    Route("/login", pages.login, methods=["POST"]),
    Route("/logout", pages.logout, methods=["POST"]),
    Route("/events/processes", events.process_list_events),
    Route("/events/processes/{pk:int}", events.process_events),
    Route("/api/processes", api.processes),
    Route("/api/processes/{pk:int}", api.process),
    Route("/api/processes/{action:str}", api.control, methods=["POST"]),
    Route("/api/processes/{pk:int}/{action:str}", api.control, methods=["POST"]),
    Route("/api/nodes/{pk:int}", api.node),
    Route("/api/daemon", api.daemon),
    Route("/api/openapi.json", openapi.openapi),
    Route("/static/app.css", assets.asset),
    Route("/static/app.js", assets.asset),
    Route("/favicon.ico", assets.no_icon),
]


def create_app(settings: WebSettings, runtime: Runtime | None = None) -> Starlette:
    """The dashboard for ``settings``; on ``runtime`` if given (it is then left open at the
    end), else on a Runtime of ``settings.home``/``settings.database_url`` opened at start.

    Raises:
        StorageError: at start, if the database cannot be used.
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        opened = runtime or Runtime(settings.home, database_url=settings.database_url)
        watcher = ChangeWatcher(fingerprint_reader(opened.storage))
        app.state.web = WebState(settings, opened, make_templates(), watcher)
        try:
            yield
        finally:
            await watcher.close()
            if runtime is None:
                opened.shutdown()

    return Starlette(
        routes=ROUTES,
        middleware=[Middleware(GuardMiddleware, settings=settings)],
        exception_handlers={
            WorkactorsError: error_answer,
            404: error_answer,
            405: error_answer,
            500: error_answer,
        },
        lifespan=lifespan,
    )
