"""``workactors daemon logs``: the ends of the supervisor's and the workers' logs, or follow them.

``--json`` prints ``{"logs": [{"name", "path", "lines"}]}``; with ``--follow`` it prints one
JSON object a line (``{"name", "line"}``) as lines are appended, for ``jq`` and friends.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Annotated

import typer

from actors.cli import jsonout
from actors.cli.context import fail, home_of
from actors.daemon import DaemonPaths

#: Seconds between two looks at the logs with ``logs --follow``.
FOLLOW_INTERVAL = 0.5
#: The most lines ``--lines`` shows of each log.
MAX_LINES = 1_000_000


def logs_command(
    ctx: typer.Context,
    lines: Annotated[
        int,
        typer.Option(
            "--lines", "-n", min=0, max=MAX_LINES, help="How many last lines of each log."
        ),
    ] = 20,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines until Ctrl-C.")
    ] = False,
    worker: Annotated[
        int | None,
        typer.Option("--worker", "-w", min=0, max=100_000, help="Only this worker's log."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (JSON lines with --follow) for scripts.")
    ] = False,
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
    shown: list[dict[str, str | list[str]]] = []
    for path in files:
        data = path.read_bytes()
        offsets[path] = len(data)
        tail = data.decode(errors="replace").splitlines()[-lines:] if lines else []
        if as_json:
            shown.append({"name": path.stem, "path": str(path), "lines": tail})
            continue
        typer.echo(f"==> {path.name} <==")
        for line in tail:
            typer.echo(line)
    if as_json and not follow:
        jsonout.emit({"logs": shown})
    if as_json and follow:
        for log in shown:
            for line in log["lines"]:
                typer.echo(json.dumps({"name": log["name"], "line": line}, ensure_ascii=False))
    if follow:
        _follow(offsets, as_json=as_json)


def _follow(offsets: dict[Path, int], *, as_json: bool) -> None:
    """Print lines appended to the logs, each prefixed with its log's name, until Ctrl-C.

    A log that shrank was rotated: it is read again from its start.
    """
    pause = threading.Event()
    partial = dict.fromkeys(offsets, b"")
    try:
        while True:
            for path, offset in list(offsets.items()):
                start = offset
                try:
                    with path.open("rb") as handle:
                        if path.stat().st_size < offset:  # rotated: the new file from its start
                            start, partial[path] = 0, b""
                        handle.seek(start)
                        data = partial[path] + handle.read()
                        offsets[path] = handle.tell()
                except FileNotFoundError:
                    continue
                *complete, partial[path] = data.split(b"\n")
                for raw in complete:
                    line = raw.decode(errors="replace")
                    if as_json:
                        typer.echo(json.dumps({"name": path.stem, "line": line}))
                    else:
                        typer.echo(f"{path.stem}: {line}")
            pause.wait(FOLLOW_INTERVAL)
    except KeyboardInterrupt:
        return
