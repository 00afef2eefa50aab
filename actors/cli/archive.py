"""``workactors archive ...``: write provenance to a versioned zip, import one, inspect one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from actors.cli import jsonout, render
from actors.cli.context import fail, open_runtime
from actors.cli.identifiers import node_argument, resolve_pks
from actors.cli.options import JsonFlag
from provenance.archive import ArchiveCounts, create_archive, import_archive, inspect_archive
from provenance.archive.export import check_target
from provenance.archive.reader import read_archive

app = typer.Typer(
    help="Share and back up provenance: archives of nodes, links, logs and groups.",
    no_args_is_help=True,
)

ArchivePath = Annotated[Path, typer.Argument(metavar="FILE", help="The archive (a .zip file).")]


def _identifiers(values: list[str]) -> list[str]:
    """``-N 1 -N 2,3`` -> the checked identifiers ``1``, ``2``, ``3``."""
    return [node_argument(part) for value in values for part in value.split(",") if part.strip()]


@contextmanager
def _file_errors() -> Iterator[None]:
    """The archive file's own problems, said as they are (``open_runtime`` would blame the
    home for any OSError)."""
    try:
        yield
    except OSError as exc:
        fail(" ".join(str(exc).split()))


def _counts_line(counts: ArchiveCounts) -> str:
    return f"{counts.nodes} nodes, {counts.links} links, {counts.logs} logs, {counts.groups} groups"


@app.command("create")
def create_command(  # noqa: PLR0917 - typer passes each option as a parameter
    ctx: typer.Context,
    output: Annotated[Path, typer.Argument(metavar="OUT.zip", help="The archive to write.")],
    nodes: Annotated[
        list[str] | None,
        typer.Option(
            "--nodes",
            "-N",
            metavar="PK",
            help="A node to export (pk, uuid or prefix; repeat, or 1,2,3).",
        ),
    ] = None,
    groups: Annotated[
        list[str] | None,
        typer.Option(
            "--groups", "-G", metavar="GROUP", help="A group to export, with its nodes (repeat)."
        ),
    ] = None,
    include_calls: Annotated[
        bool,
        typer.Option(
            "--include-calls/--no-calls", help="Export the processes each process called."
        ),
    ] = True,
    include_callers: Annotated[
        bool,
        typer.Option(
            "--include-callers/--no-callers", help="Export the processes that called each one."
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Write nodes and groups, with the provenance that explains them, to OUT.zip."""
    identifiers = _identifiers(nodes or [])
    if not identifiers and not groups:
        raise typer.BadParameter(
            "give nodes (-N PK) or groups (-G GROUP) to export", param_hint="-N/-G"
        )
    with _file_errors():
        check_target(output)  # before a home is opened (or created) for nothing
    with open_runtime(ctx) as runtime:
        with runtime.storage.read_session() as session:
            pks = resolve_pks(session, identifiers)
        runtime.backend.sync()
        with _file_errors(), render.stderr_console().status("Exporting...") as status:
            counts = create_archive(
                output,
                pks,
                groups or [],
                include_calls=include_calls,
                include_callers=include_callers,
                storage=runtime.storage,
                progress=lambda what, done: status.update(f"Exporting {what}: {done}"),
            )
    if as_json:
        jsonout.emit({"path": str(output), **counts_json(counts)})
        return
    render.stdout_console().print(
        f"Wrote {output}: {_counts_line(counts)}", markup=False, soft_wrap=True
    )


def counts_json(counts: ArchiveCounts) -> dict[str, int]:
    """The counts as JSON."""
    return {
        "nodes": counts.nodes,
        "links": counts.links,
        "logs": counts.logs,
        "groups": counts.groups,
    }


@app.command("import")
def import_command(ctx: typer.Context, path: ArchivePath, as_json: JsonFlag = False) -> None:
    """Import an archive: nodes by uuid (twice adds nothing), all or nothing."""
    with _file_errors():
        read_archive(path, records=False)  # a missing file: before a home is opened for nothing
    with open_runtime(ctx) as runtime:
        runtime.backend.sync()
        with _file_errors(), render.stderr_console().status("Importing..."):
            counts = import_archive(path, storage=runtime.storage)
    if as_json:
        jsonout.emit({"path": str(path), **counts_json(counts)})
        return
    render.stdout_console().print(
        f"Imported {path}: added {_counts_line(counts)}", markup=False, soft_wrap=True
    )


@app.command("inspect")
def inspect_command(path: ArchivePath, as_json: JsonFlag = False) -> None:
    """Check an archive completely and show what it holds (no database needed)."""
    info = inspect_archive(path)
    if as_json:
        jsonout.emit(info.as_json())
        return
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_row("Archive", str(info.path))
    table.add_row("Format version", str(info.version))
    table.add_row("Created", f"{info.created} by workactors {info.workactors}")
    table.add_row("Holds", _counts_line(info.counts))
    for node_type, count in info.node_types.items():
        table.add_row("", f"{count} {node_type}")
    if info.groups:
        table.add_row("Groups", ", ".join(info.groups))
    render.stdout_console().print(table)
    if info.mismatched_hashes:
        render.stderr_console().print(
            f"Warning: {len(info.mismatched_hashes)} data node(s) carry a hash that is not their "
            f"content's (edited or forged; an import hashes the content): "
            f"{', '.join(info.mismatched_hashes[:5])}"
            + (" and more" if len(info.mismatched_hashes) > 5 else ""),
            markup=False,
            soft_wrap=True,
        )
