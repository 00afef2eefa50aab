"""``workactors web``: serve the dashboard of a home (``actors.web``) until Ctrl-C."""

from __future__ import annotations

import webbrowser
from typing import Annotated

import typer

from actors.cli import render
from actors.cli.context import fail, settings_of

# The same defaults as ``actors.web.settings``, written out so that every other verb starts
# without importing the web stack; a test checks that they agree.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def web_command(
    ctx: typer.Context,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on; anything but the loopback needs the token to read.",
        ),
    ] = DEFAULT_HOST,
    port: Annotated[
        int, typer.Option("--port", "-p", min=0, max=65_535, help="TCP port (0: any free one).")
    ] = DEFAULT_PORT,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="WORKACTORS_WEB_TOKEN",
            help="Secret for pause/play/kill (at least 16 characters); "
            "a random one is made and printed if not given.",
            show_default=False,
        ),
    ] = None,
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the dashboard in a web browser.")
    ] = False,
) -> None:
    """Serve the web dashboard: processes (live), each process, provenance graphs, the daemon.

    Listens on 127.0.0.1 by default. Pause, play and kill need the token: open the link it prints.
    """
    try:
        from actors.web import BadRequestError, ServeError, WebSettings, bind, serve, url_of
        from actors.web.settings import new_token
    except ModuleNotFoundError as exc:
        fail(
            f"the dashboard needs the web extra ({exc.name} is not installed): "
            "pip install 'workactors[web]'"
        )

    chosen = settings_of(ctx)
    try:
        settings = WebSettings(
            host=host,
            port=port,
            token=token or new_token(),
            home=chosen.home,
            database_url=chosen.database_url,
        )
    except BadRequestError as exc:
        fail(str(exc), 2)
    try:
        sock, settings = bind(settings)
    except ServeError as exc:
        fail(str(exc))
    console = render.stdout_console()
    link = url_of(settings, with_token=True)
    console.print(f"Dashboard on {url_of(settings)} (Ctrl-C stops it)", soft_wrap=True)
    if not settings.loopback:
        console.print(
            f"Listening on {host}: every page needs the token, not only the writes", soft_wrap=True
        )
    console.print(f"Sign in for pause/play/kill: {link}", soft_wrap=True, markup=False)
    if open_browser:
        webbrowser.open(link)
    serve(sock, settings)
