"""``workactors daemon start|stop|status|logs``: the worker OS processes of a home.

``start`` launches the supervisor in the background (or runs it here with ``--foreground``),
``stop`` stops it gracefully, ``status`` reads its lock, state and status files, ``logs`` shows
the ends of its logs. None of them opens the provenance database.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from actors.cli import jsonout, render
from actors.cli.context import fail, home_of, settings_of
from actors.daemon import (
    DaemonError,
    DaemonPaths,
    DaemonState,
    DaemonView,
    start_daemon,
    stop_daemon,
    view,
)
from actors.daemon.manage import START_TIMEOUT, STOP_TIMEOUT
from actors.daemon.settings import SHUTDOWN_TIMEOUT

#: Processes listed per worker in ``status`` before "and N more".
SHOWN_PIDS = 8
#: Seconds between two looks at the logs with ``logs --follow``.
FOLLOW_INTERVAL = 0.5

app = typer.Typer(
    help="Run submitted processes: worker OS processes that resume every checkpoint of a home.",
    no_args_is_help=True,
)


@app.command("start")
def start_command(
    ctx: typer.Context,
    workers: Annotated[
        int, typer.Option("--workers", "-n", min=1, help="How many worker OS processes.")
    ] = 1,
    foreground: Annotated[
        bool,
        typer.Option("--foreground", help="Run here, logging to stderr too, until Ctrl-C."),
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Seconds to wait for the workers.")
    ] = START_TIMEOUT,
    shutdown_timeout: Annotated[
        float,
        typer.Option(
            "--shutdown-timeout",
            min=0,
            help="Seconds a stop lets running steps finish before leaving them to checkpoints.",
        ),
    ] = SHUTDOWN_TIMEOUT,
) -> None:
    """Start the daemon: N workers that run what was submitted, resuming every checkpoint.

    Workers import process classes by module path: start it where those modules import.
    A worker that dies is restarted; `start` after a crash resumes everything.
    """
    home = home_of(ctx)
    database_url = settings_of(ctx).database_url
    console = render.stdout_console()
    if foreground:
        _run_in_foreground(home, workers, database_url, shutdown_timeout)
        return
    try:
        state = start_daemon(
            home,
            workers,
            database_url=database_url,
            shutdown_timeout=shutdown_timeout,
            timeout=timeout,
            cwd=os.getcwd(),
        )
    except DaemonError as exc:
        fail(str(exc))
    console.print(
        f"Daemon started on {state.home}: supervisor OS pid {state.os_pid}, {workers} worker(s)"
    )


def _run_in_foreground(
    home: Path, workers: int, database_url: str | None, shutdown_timeout: float
) -> None:
    from actors.daemon import logfile
    from actors.daemon.supervisor import Supervisor

    paths = DaemonPaths.of(home)
    console = render.stderr_console()
    paths.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with logfile.logging_to(paths.supervisor_log, echo=True):

        def on_ready(state: DaemonState) -> None:
            console.print(
                f"Daemon running on {state.home} with {workers} worker(s); Ctrl-C stops it"
            )

        supervisor = Supervisor(
            paths.home,
            workers,
            database_url=database_url,
            shutdown_timeout=shutdown_timeout,
            on_ready=on_ready,
            cwd=os.getcwd(),
        )
        try:
            status = supervisor.run()
        except DaemonError as exc:
            fail(str(exc))
    if status:
        fail(f"the daemon stopped with status {status}; {paths.supervisor_log} says why")


@app.command("stop")
def stop_command(
    ctx: typer.Context,
    timeout: Annotated[
        float, typer.Option("--timeout", "-t", min=0, help="Seconds to wait for it to stop.")
    ] = STOP_TIMEOUT,
) -> None:
    """Stop the daemon gracefully: running steps finish, processes stay checkpointed."""
    home = home_of(ctx)
    console = render.stdout_console()
    try:
        state = stop_daemon(home, timeout)
    except DaemonError as exc:
        fail(str(exc))
    if state is None:
        console.print(f"No daemon runs on {DaemonPaths.of(home).home}")
        return
    left = len(view(home).unheld_checkpoints)
    console.print(
        f"Daemon stopped ({state.workers} worker(s)); {left} unfinished process(es) stay "
        "checkpointed and resume at the next start"
    )


@app.command("status")
def status_command(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print plain JSON for scripts instead of a table.")
    ] = False,
) -> None:
    """Show the daemon: its supervisor, each worker, the processes each holds."""
    seen = view(home_of(ctx))
    if as_json:
        jsonout.emit(_status_json(seen))
    else:
        render.stdout_console().print(_status_view(seen))


def _since(started: float) -> str:
    moment = dt.datetime.fromtimestamp(started, dt.UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _pids_text(pids: tuple[int, ...]) -> Text:
    shown = ", ".join(map(str, pids[:SHOWN_PIDS]))
    more = len(pids) - SHOWN_PIDS
    return Text(f"{shown} and {more} more" if more > 0 else shown or "-")


def _status_view(seen: DaemonView) -> RenderableType:
    state = seen.state
    if not seen.running:
        head = Text("The daemon is not running", style="bold")
    elif state is not None:
        head = Text.assemble(
            ("The daemon is running", "bold green"),
            f" on {state.home}: supervisor OS pid {state.os_pid} since {_since(state.started)}",
        )
    else:
        head = Text("A daemon holds this home but wrote no state file", style="yellow")
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column, justify in (
        ("Worker", "right"),
        ("OS pid", "right"),
        ("Alive", "left"),
        ("Held", "right"),
        ("Processes", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for worker in seen.workers:
        alive = worker.alive
        table.add_row(
            str(worker.index),
            str(worker.os_pid),
            Text("yes", style="green") if alive else Text("no", style="red"),
            str(len(worker.held)),
            _pids_text(worker.held),
        )
    waiting = seen.unheld_checkpoints
    foot = Text(
        f"Waiting for a worker in running/: {len(waiting)} checkpoint(s) ({_pids_text(waiting)})"
        if waiting
        else "No checkpoint in running/ waits for a worker",
        style="dim",
    )
    parts: list[RenderableType] = [head]
    if seen.workers:
        parts.append(table)
    parts.append(foot)
    return Group(*parts)


def _status_json(seen: DaemonView) -> dict[str, Any]:
    state = seen.state
    return {
        "running": seen.running,
        "supervisor": None
        if state is None
        else {"os_pid": state.os_pid, "started": state.started, "workers": state.workers},
        "home": state.home if state else None,
        "workers": [
            {
                "index": worker.index,
                "os_pid": worker.os_pid,
                "alive": worker.alive,
                "held": list(worker.held),
            }
            for worker in seen.workers
        ],
        "unheld_checkpoints": list(seen.unheld_checkpoints),
    }


@app.command("logs")
def logs_command(
    ctx: typer.Context,
    lines: Annotated[
        int, typer.Option("--lines", "-n", min=0, help="How many last lines of each log.")
    ] = 20,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines until Ctrl-C.")
    ] = False,
    worker: Annotated[
        int | None, typer.Option("--worker", "-w", min=0, help="Only this worker's log.")
    ] = None,
) -> None:
    """Show the last lines of the supervisor's and the workers' logs."""
    paths = DaemonPaths.of(home_of(ctx))
    files = (
        [paths.worker_log(worker)]
        if worker is not None
        else [paths.supervisor_log, *paths.worker_logs()]
    )
    files = [path for path in files if path.is_file()]
    if not files:
        fail(f"no daemon log in {paths.folder}: the daemon never ran on this home")
    offsets: dict[Path, int] = {}
    for path in files:
        data = path.read_bytes()
        offsets[path] = len(data)
        tail = data.decode(errors="replace").splitlines()[-lines:] if lines else []
        typer.echo(f"==> {path.name} <==")
        for line in tail:
            typer.echo(line)
    if follow:
        _follow(offsets)


def _follow(offsets: dict[Path, int]) -> None:
    """Print lines appended to the logs, each prefixed with its log's name, until Ctrl-C."""
    pause = threading.Event()
    partial = dict.fromkeys(offsets, b"")
    try:
        while True:
            for path, offset in offsets.items():
                with path.open("rb") as handle:
                    handle.seek(offset)
                    data = partial[path] + handle.read()
                    offsets[path] = handle.tell()
                *complete, partial[path] = data.split(b"\n")
                for line in complete:
                    typer.echo(f"{path.stem}: {line.decode(errors='replace')}")
            pause.wait(FOLLOW_INTERVAL)
    except KeyboardInterrupt:
        return
