"""``workactors process ...``: inspect process nodes (list, show, report)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from actors.cli import jsonout, queries, render
from actors.cli.context import read_session
from provenance import ProcessState

DEFAULT_LIMIT = 50

app = typer.Typer(
    help="Inspect processes: what ran, how it ended, and what it reported.",
    no_args_is_help=True,
)

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print plain JSON for scripts instead of tables.")
]
PkArgument = Annotated[int, typer.Argument(metavar="PK", help="The pk (pid) of the process.")]


@app.command("list")
def list_command(
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
) -> None:
    """List processes, newest last: pk, label, state, exit status and age."""
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
