"""``workactors daemon start|stop|restart|incr|decr|status|logs``: the worker OS processes of a
home.

``start`` launches the supervisor in the background (or runs it here with ``--foreground``),
``stop`` stops it gracefully, ``restart`` does both, ``incr``/``decr`` change how many workers
it keeps without stopping it, ``status`` reads its lock, state and status files, ``logs``
(``actors.cli.daemon_logs``) shows the ends of its logs. None of them opens the provenance
database.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from actors.cli import daemon_logs, jsonout, render
from actors.cli.checkpoints import CheckpointView, checkpoint_of, row_views, summary
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
from actors.daemon.manage import START_TIMEOUT, STOP_TIMEOUT, scale_daemon
from actors.daemon.settings import MAX_WORKERS, SHUTDOWN_TIMEOUT
from actors.daemon.shared_queue import SharedQueue, shared_queue
from actors.home import DATABASE_URL_ENV

#: Processes listed per worker in ``status`` before "and N more".
SHOWN_PIDS = 8
#: Exit status of ``daemon status`` when no daemon runs (systemctl's "not running").
NOT_RUNNING_STATUS = 3

app = typer.Typer(
    help="Run submitted processes: worker OS processes that resume every checkpoint of a home.",
    no_args_is_help=True,
)


@app.command("start")
def start_command(
    ctx: typer.Context,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", "-n", min=1, max=MAX_WORKERS, help="How many worker OS processes."
        ),
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
    queue = _shared_queue(ctx)
    seen = view(home) if queue is None else queue.applied_to(view(home))
    left = len(seen.unheld_checkpoints)
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
    """Show the daemon: its supervisor, each worker, the processes each holds.

    Exits with status 3 when no daemon runs (as `systemctl status` does), so scripts can test.
    """
    home = home_of(ctx)
    seen = view(home)
    queue = _shared_queue(ctx)
    shared = None if queue is None else queue.workers
    # What the first waiting checkpoints are, read from their envelopes (nothing is loaded).
    waiting: list[tuple[int, CheckpointView | None]]
    if queue is not None:
        seen = queue.applied_to(seen)
        shown = queue.waiting[:SHOWN_PIDS]
        waiting = list(zip([row.pid for row in shown], row_views(shown, Path(home)), strict=True))
    else:
        waiting = [(p, checkpoint_of(home, p)) for p in seen.unheld_checkpoints[:SHOWN_PIDS]]
    if as_json:
        document = status_json(seen)
        document["waiting_checkpoints"] = [
            {"pk": pid, **view.as_dict()} for pid, view in waiting if view is not None
        ]
        if shared is not None:
            document["shared_database_workers"] = shared
        jsonout.emit(document)
    else:
        render.stdout_console().print(
            _status_view(seen, "the shared database" if shared is not None else "running/")
        )
        if waiting:
            render.stdout_console().print(_waiting_view(waiting))
        if shared is not None:
            render.stdout_console().print(_shared_view(shared))
    if not seen.running:
        raise typer.Exit(NOT_RUNNING_STATUS)


def _waiting_view(waiting: list[tuple[int, CheckpointView | None]]) -> RenderableType:
    """The waiting checkpoints as their envelopes describe them."""
    now = dt.datetime.now(dt.UTC)
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("PK", justify="right")
    table.add_column("Class")
    table.add_column("Checkpoint")
    for pid, seen in waiting:
        if seen is None:
            continue  # adopted or retired since the folder was read
        class_path = seen.envelope.class_path if seen.envelope is not None else "?"
        table.add_row(str(pid), class_path, summary(seen, now))
    return table


def _since(started: float) -> str:
    moment = dt.datetime.fromtimestamp(started, dt.UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _pids_text(pids: tuple[int, ...]) -> Text:
    shown = ", ".join(map(str, pids[:SHOWN_PIDS]))
    more = len(pids) - SHOWN_PIDS
    return Text(f"{shown} and {more} more" if more > 0 else shown or "-")


def _status_view(seen: DaemonView, where: str) -> RenderableType:
    state = seen.state
    if not seen.running:
        head = Text("The daemon is not running", style="bold")
        if seen.last_stop is not None:
            reason, when = seen.last_stop
            head.append(f"; the last one stopped at {_since(when)} because {reason}", "")
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
        f"Waiting for a worker in {where}: {len(waiting)} checkpoint(s) ({_pids_text(waiting)})"
        if waiting
        else f"No checkpoint in {where} waits for a worker",
        style="dim",
    )
    parts: list[RenderableType] = [head]
    if seen.workers:
        parts.append(table)
    parts.append(foot)
    return Group(*parts)


def _shared_queue(ctx: typer.Context) -> SharedQueue | None:
    """The shared database's workers and waiting checkpoints; None without one."""
    try:
        return shared_queue(settings_of(ctx).database_url or os.environ.get(DATABASE_URL_ENV))
    except Exception as exc:
        fail(f"cannot read the workers and queue of the shared database: {exc}")


def _shared_view(workers: list[dict[str, Any]]) -> RenderableType:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("Host", "OS pid", "Home", "Claims", "Last heartbeat"):
        table.add_column(column)
    for worker in workers:
        table.add_row(
            worker["host"],
            str(worker["os_pid"]),
            worker["home"],
            str(worker["claims"]),
            _since(worker["heartbeat"]),
        )
    head = Text(f"Workers on the shared database, every machine: {len(workers)}", style="bold")
    return Group(head, table) if workers else head


def status_json(seen: DaemonView) -> dict[str, Any]:
    """``daemon status --json`` (and the dashboard's ``/api/daemon``)."""
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
        "last_stop": None
        if seen.last_stop is None
        else {"reason": seen.last_stop[0], "time": seen.last_stop[1]},
    }


@app.command("restart")
def restart_command(
    ctx: typer.Context,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-n",
            min=1,
            max=MAX_WORKERS,
            help="How many workers (default: as many as the running daemon has, else 1).",
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option("--timeout", "-t", min=0, max=86_400, help="Seconds to wait for the stop."),
    ] = STOP_TIMEOUT,
) -> None:
    """Stop the daemon gracefully (if one runs) and start it again, e.g. after a code change."""
    home = home_of(ctx)
    console = render.stdout_console()
    try:
        stopped = stop_daemon(home, timeout)
        count = workers or (stopped.workers if stopped is not None else 1)
        state = start_daemon(
            home, count, database_url=settings_of(ctx).database_url, cwd=os.getcwd()
        )
    except DaemonError as exc:
        fail(str(exc))
    was = "restarted" if stopped is not None else "started (none was running)"
    console.print(
        f"Daemon {was} on {state.home}: supervisor OS pid {state.os_pid}, {count} worker(s)"
    )


CountArgument = Annotated[
    int, typer.Argument(metavar="N", min=1, max=MAX_WORKERS, help="How many workers.")
]


def _scale(ctx: typer.Context, change: int, as_json: bool) -> None:
    home = home_of(ctx)
    state = DaemonState.read(DaemonPaths.of(home))
    if not view(home).running or state is None:
        fail(f"no daemon runs on {DaemonPaths.of(home).home}; `workactors daemon start` starts one")
    target = state.workers + change
    if not 1 <= target <= MAX_WORKERS:
        fail(
            f"the daemon has {state.workers} worker(s); it keeps 1 to {MAX_WORKERS}, not {target}",
            2,
        )
    try:
        scaled = scale_daemon(home, target)
    except DaemonError as exc:
        fail(str(exc))
    if as_json:
        jsonout.emit({"workers": scaled.workers, "was": state.workers, "os_pid": scaled.os_pid})
        return
    render.stdout_console().print(
        f"The daemon on {scaled.home} now runs {scaled.workers} worker(s) (was {state.workers})"
    )


@app.command("incr")
def incr_command(
    ctx: typer.Context,
    count: CountArgument = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Add N workers to the running daemon, without stopping it."""
    _scale(ctx, count, as_json)


@app.command("decr")
def decr_command(
    ctx: typer.Context,
    count: CountArgument = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Stop N of the daemon's workers gracefully; the others adopt what they held."""
    _scale(ctx, -count, as_json)


app.command("logs")(daemon_logs.logs_command)
