"""``workactors daemon start|stop|restart|incr|decr|status|logs``: the worker OS processes of a
home.

``start`` launches the supervisor in the background (or runs it here with ``--foreground``),
``stop`` stops it gracefully, ``restart`` does both, ``incr``/``decr`` change how many workers
it keeps without stopping it; ``status`` (``actors.cli.daemon_status``) reads its lock, state
and status files, ``logs`` (``actors.cli.daemon_logs``) shows the ends of its logs. None of them
opens the provenance database.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from actors.cli import daemon_logs, jsonout, render
from actors.cli.context import fail, home_of, settings_of
from actors.cli.daemon_status import (
    NOT_RUNNING_STATUS,
    SHOWN_PIDS,
    shared_queue_of,
    status_command,
    status_json,
)
from actors.daemon import (
    DaemonError,
    DaemonPaths,
    DaemonState,
    start_daemon,
    stop_daemon,
    view,
)
from actors.daemon.manage import START_TIMEOUT, STOP_TIMEOUT, scale_daemon
from actors.daemon.settings import MAX_WORKERS, SHUTDOWN_TIMEOUT

__all__ = [
    "NOT_RUNNING_STATUS",
    "SHOWN_PIDS",
    "CountArgument",
    "app",
    "decr_command",
    "incr_command",
    "restart_command",
    "start_command",
    "status_command",
    "status_json",
    "stop_command",
]

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
    queue = shared_queue_of(ctx)
    seen = view(home) if queue is None else queue.applied_to(view(home))
    left = len(seen.unheld_checkpoints)
    console.print(
        f"Daemon stopped ({state.workers} worker(s)); {left} unfinished process(es) stay "
        "checkpointed and resume at the next start"
    )


app.command("status")(status_command)


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
