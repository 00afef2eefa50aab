"""``workactors daemon status``: what the daemon of a home is doing, read without disturbing it.

It reads the supervisor's lock, state and status files (``actors.daemon.view``) and, with a
shared database, its table of workers and queue of waiting checkpoints; the checkpoints waiting
are described from their envelopes, nothing is loaded. ``daemon stop`` reads the same to say
what stays checkpointed. ``--json`` prints the document the dashboard's ``/api/daemon`` serves.
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

from actors.cli import jsonout, render
from actors.cli.checkpoints import CheckpointView, checkpoint_of, row_views, summary
from actors.cli.context import fail, home_of, settings_of
from actors.daemon import DaemonView, view
from actors.daemon.shared_queue import SharedQueue, shared_queue
from actors.home import DATABASE_URL_ENV

#: Processes listed per worker in ``status`` before "and N more".
SHOWN_PIDS = 8
#: Exit status of ``daemon status`` when no daemon runs (systemctl's "not running").
NOT_RUNNING_STATUS = 3


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
    queue = shared_queue_of(ctx)
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


def shared_queue_of(ctx: typer.Context) -> SharedQueue | None:
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
