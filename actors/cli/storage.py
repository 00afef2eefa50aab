"""``workactors storage info|maintain|backup``: what a home and its database take, and keeping
them in shape.

``info`` counts nodes, processes by state and checkpoints, and measures the database, the
checkpoint folders and the daemon logs. ``maintain`` compacts the database (SQLite ``VACUUM``
and ``ANALYZE``; PostgreSQL ``VACUUM ANALYZE``) and prunes ``running/finished``. ``backup DEST``
copies a SQLite database consistently while processes may be running; for PostgreSQL it prints
the ``pg_dump`` command to use instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table
from rich.text import Text

from actors.cli import jsonout, render
from actors.cli.context import fail, home_of, settings_of
from actors.cli.options import JsonFlag
from actors.cli.storage_ops import (
    StorageInfo,
    backup_sqlite,
    gather,
    pg_dump_hint,
    require_sqlite_file,
    sqlite_path,
    vacuum,
)
from actors.daemon.housekeeping import Retention, prune_finished
from actors.runtime import DATABASE_URL_ENV
from provenance.storage import Storage, sqlite_url

app = typer.Typer(
    help="Sizes and counts of the database and checkpoints; vacuum, prune and back up.",
    no_args_is_help=True,
)


def database_url(ctx: typer.Context) -> str:
    """The database this invocation works on, as the Runtime would choose it."""
    chosen = settings_of(ctx).database_url or os.environ.get(DATABASE_URL_ENV)
    return chosen or sqlite_url(home_of(ctx).expanduser() / "provenance.sqlite")


@contextmanager
def open_storage(ctx: typer.Context) -> Iterator[Storage]:
    """The database of this invocation (an existing SQLite file: none is created here)."""
    url = database_url(ctx)
    if sqlite_path(url) is not None:
        require_sqlite_file(url)
    storage = Storage(url)
    try:
        yield storage
    finally:
        storage.dispose()


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"


def _info_json(info: StorageInfo, home: Path) -> dict[str, Any]:
    return {
        "home": str(home),
        "database": {
            "location": info.location,
            "dialect": info.dialect,
            "bytes": info.database_bytes,
        },
        "nodes": info.nodes,
        "processes": info.processes,
        "processes_by_state": info.processes_by_state,
        "links": info.links,
        "logs": info.logs,
        "checkpoints": {
            name: {"count": folder.count, "bytes": folder.size}
            for name, folder in info.checkpoints.items()
        },
        "daemon_log_bytes": info.log_bytes,
    }


@app.command("info")
def info_command(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Sizes and counts: the database, nodes, processes by state, checkpoints, daemon logs."""
    home = home_of(ctx).expanduser()
    with open_storage(ctx) as storage:
        info = gather(storage, home)
    if as_json:
        jsonout.emit(_info_json(info, home))
        return
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("home", Text(str(home)))
    table.add_row("database", Text(f"{info.location} ({_size(info.database_bytes)})"))
    table.add_row("nodes", f"{info.nodes} ({info.processes} processes, {info.links} links)")
    states = ", ".join(f"{number} {name}" for name, number in info.processes_by_state.items())
    table.add_row("processes", states or "none")
    table.add_row("log records", str(info.logs))
    for name, folder in info.checkpoints.items():
        table.add_row(f"checkpoints {name}", f"{folder.count} ({_size(folder.size)})")
    table.add_row("daemon logs", _size(info.log_bytes))
    render.stdout_console().print(table)


@app.command("maintain")
def maintain_command(
    ctx: typer.Context,
    keep_days: Annotated[
        float | None,
        typer.Option(
            "--keep-days",
            min=0,
            max=100_000,
            help="Prune finished checkpoints older than this (default $WORKACTORS_FINISHED_"
            "KEEP_DAYS, else 30).",
        ),
    ] = None,
    keep_count: Annotated[
        int | None,
        typer.Option(
            "--keep-count",
            min=0,
            max=10**9,
            help="Keep at most this many finished checkpoints (default "
            "$WORKACTORS_FINISHED_KEEP_COUNT, else 10000).",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Compact and re-analyse the database and prune running/finished."""
    home = home_of(ctx).expanduser()
    try:
        defaults = Retention.from_environment()
    except ValueError as exc:
        fail(str(exc))
    retention = Retention(
        days=defaults.days if keep_days is None else keep_days,
        count=defaults.count if keep_count is None else keep_count,
    )
    with open_storage(ctx) as storage, _progress(transient=True) as progress:
        before = gather(storage, home).database_bytes
        task = progress.add_task("Vacuuming the database", total=None)
        statements = vacuum(storage)
        progress.update(task, description="Pruning running/finished")
        pruned = prune_finished(home / "running" / "finished", retention)
        after = gather(storage, home).database_bytes
        progress.update(task, description="Done")
    if as_json:
        jsonout.emit(
            {
                "statements": statements,
                "database_bytes": {"before": before, "after": after},
                "pruned_finished": pruned,
            }
        )
        return
    render.stdout_console().print(
        f"Database {_size(before)} -> {_size(after)} ({len(statements)} statement(s): "
        f"{statements[0]}...); pruned {pruned} finished checkpoint(s)",
        soft_wrap=True,
    )


@contextmanager
def _progress(*, transient: bool, sized: bool = False) -> Iterator[Progress]:
    """A rich progress display on stderr (so that stdout stays for results); ``sized`` shows
    the bytes done of the bytes to do."""
    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if sized:
        columns += [BarColumn(), DownloadColumn()]
    progress = Progress(*columns, console=render.stderr_console(), transient=transient)
    with progress:
        yield progress


@app.command("backup")
def backup_command(
    ctx: typer.Context,
    destination: Annotated[
        Path, typer.Argument(metavar="DEST", dir_okay=False, help="The file to write.")
    ],
) -> None:
    """Back up the database consistently into DEST, while processes may be running (SQLite);
    for PostgreSQL, print the pg_dump command to use and exit 1."""
    url = database_url(ctx)
    source = sqlite_path(url)
    if source is None:
        with open_storage(ctx) as storage:
            hint = pg_dump_hint(storage, destination)
        fail(f"a PostgreSQL database is backed up with pg_dump: {hint}")
    require_sqlite_file(url)
    if destination.exists():
        fail(f"{destination} exists already; choose a new file or remove it first")
    if not destination.parent.is_dir():
        fail(f"cannot write {destination}: the folder {destination.parent} does not exist")
    with _progress(transient=True, sized=True) as progress:
        task = progress.add_task(f"Backing up {source.name}", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        size = backup_sqlite(source, destination, advance)
    render.stdout_console().print(
        f"Backed up {source} to {destination} ({_size(size)})", soft_wrap=True
    )
