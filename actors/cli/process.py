"""``workactors process ...``: inspect process nodes (list, show, report)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from actors.cli import jsonout, queries, render
from actors.cli.context import fail, read_session
from actors.runtime import runtime_holding
from provenance import ProcessState

DEFAULT_LIMIT = 50

app = typer.Typer(
    help="Inspect processes (what ran, how it ended, what it reported) and kill them.",
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


@app.command("kill")
def kill_command(
    ctx: typer.Context,
    pk: PkArgument,
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="Why; it goes into the report.")
    ] = None,
    timeout: Annotated[
        float,
        typer.Option("--timeout", "-t", min=0, help="Seconds to wait for it to end; 0: do not."),
    ] = 30.0,
) -> None:
    """Kill a running process and its running children before their next step.

    The process must be run by a runtime in this Python process (for example a notebook that
    calls the CLI); a step that is running is not interrupted.
    """
    holder = runtime_holding(pk)
    if holder is not None and holder.kill(pk, message):
        if timeout and not holder.wait(pk, timeout):
            fail(f"process {pk} was asked to stop but has not ended within {timeout:g} s")
        console = render.stdout_console()
        console.print(f"Process {pk} killed" if timeout else f"Process {pk} asked to stop")
        return
    with read_session(ctx) as session:
        detail = queries.process_detail(session, pk)
    state = detail.node.state
    if state is not None and state.is_terminal:
        fail(f"process {pk} has already ended: it is {state.name}; there is nothing to kill")
    fail(
        f"process {pk} is {state.name if state else 'not started'} but no runtime in this "
        "Python process runs it, so it cannot be reached from here"
    )
