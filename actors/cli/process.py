"""``workactors process ...``: inspect processes (list, show, report, watch) and control them
(pause, play, kill)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import RenderableType

from actors.cli import jsonout, queries, render, watch
from actors.cli.context import open_runtime, read_session
from actors.cli.control import control
from actors.cli.watch import DEFAULT_INTERVAL
from actors.control import Action
from provenance import ProcessState

DEFAULT_LIMIT = 50

app = typer.Typer(
    help="Inspect processes (what ran, how it ended, what it reported), watch, pause, play "
    "and kill them.",
    no_args_is_help=True,
)

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print plain JSON for scripts instead of tables.")
]
PkArgument = Annotated[int, typer.Argument(metavar="PK", help="The pk (pid) of the process.")]
MessageOption = Annotated[
    str | None, typer.Option("--message", "-m", help="Why; it goes into the report.")
]
IntervalOption = Annotated[
    float, typer.Option("--interval", "-i", min=0.1, help="Seconds between two refreshes.")
]


@app.command("list")
def list_command(  # noqa: PLR0917 - typer passes each option as a parameter
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="Show at most this many, the newest.")
    ] = DEFAULT_LIMIT,
    show_all: Annotated[
        bool, typer.Option("--all", "-a", help="Show every process, ignoring --limit.")
    ] = False,
    state: Annotated[
        ProcessState | None,
        typer.Option("--state", "-s", case_sensitive=False, help="Only processes in this state."),
    ] = None,
    as_json: JsonFlag = False,
    live: Annotated[
        bool, typer.Option("--watch", "-w", help="Refresh the list live until Ctrl-C.")
    ] = False,
    interval: IntervalOption = DEFAULT_INTERVAL,
) -> None:
    """List processes, newest last: pk, label, state (paused ones say so), exit status, age."""
    if live:
        with open_runtime(ctx) as runtime:

            def snapshot() -> tuple[RenderableType, bool]:
                with runtime.storage.read_session() as session:
                    page = queries.list_processes(
                        session, limit=None if show_all else limit, state=state
                    )
                return watch.page_view(page, dt.datetime.now(dt.UTC)), False

            watch.watch(render.stdout_console(), snapshot, interval=interval)
        return
    with read_session(ctx) as session:
        page = queries.list_processes(session, limit=None if show_all else limit, state=state)
    if as_json:
        jsonout.emit(jsonout.process_list(page))
    else:
        render.stdout_console().print(render.process_list(page, dt.datetime.now(dt.UTC)))


@app.command("show")
def show_command(ctx: typer.Context, pk: PkArgument, as_json: JsonFlag = False) -> None:
    """Show a process: state, exit status, inputs, outputs, caller, called, exception."""
    with read_session(ctx) as session:
        detail = queries.process_detail(session, pk)
    if as_json:
        jsonout.emit(jsonout.process_detail(detail))
    else:
        render.stdout_console().print(render.process_detail(detail, dt.datetime.now(dt.UTC)))


@app.command("report")
def report_command(ctx: typer.Context, pk: PkArgument, as_json: JsonFlag = False) -> None:
    """Show the log of a process and, indented beneath, of every process it called."""
    with read_session(ctx) as session:
        tree = queries.process_report(session, pk)
    if as_json:
        jsonout.emit(jsonout.process_report(tree))
    else:
        render.stdout_console().print(render.process_report(tree))


@app.command("kill")
def kill_command(
    ctx: typer.Context,
    pk: PkArgument,
    message: MessageOption = None,
    timeout: Annotated[
        float,
        typer.Option("--timeout", "-t", min=0, help="Seconds to wait for it to end; 0: do not."),
    ] = 30.0,
) -> None:
    """Kill a process and its running children before their next step.

    A runtime of this Python process is asked directly; a process of the daemon is killed by
    the worker holding it, or, if none holds it now, by the one that next loads it. A step that
    is running is not interrupted.
    """
    control(ctx, pk, Action.KILL, message, timeout)


@app.command("pause")
def pause_command(ctx: typer.Context, pk: PkArgument) -> None:
    """Pause a process: it runs no further step until played (`process list` shows it).

    Reaches processes of this Python process and of the daemon, as `kill` does.
    """
    control(ctx, pk, Action.PAUSE, None, 0)


@app.command("play")
def play_command(ctx: typer.Context, pk: PkArgument) -> None:
    """Let a paused process go on."""
    control(ctx, pk, Action.PLAY, None, 0)


@app.command("watch")
def watch_command(
    ctx: typer.Context,
    pk: PkArgument,
    interval: IntervalOption = DEFAULT_INTERVAL,
    once: Annotated[bool, typer.Option("--once", help="Print the tree once and exit.")] = False,
) -> None:
    """Watch a process and every process it called, live, until it ends (Ctrl-C leaves)."""
    console = render.stdout_console()
    with open_runtime(ctx) as runtime:

        def snapshot() -> tuple[RenderableType, bool]:
            with runtime.storage.read_session() as session:
                tree = queries.call_tree(session, pk)
            return watch.tree_view(tree, dt.datetime.now(dt.UTC)), watch.is_over(tree)

        if once:
            console.print(snapshot()[0])
        else:
            watch.watch(console, snapshot, interval=interval)
