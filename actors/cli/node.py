"""``workactors node ...``: inspect any node of the provenance graph."""

from __future__ import annotations

import datetime as dt
import enum
import shutil
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from actors.cli import jsonout, queries, render
from actors.cli.context import fail, read_session
from provenance.errors import NotExistentError
from provenance.graph import neighbourhood, to_dot

app = typer.Typer(
    help="Inspect nodes of the provenance graph, data or process.", no_args_is_help=True
)


@app.command("show")
def show_command(
    ctx: typer.Context,
    pk: Annotated[int, typer.Argument(metavar="PK", help="The pk of the node.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print plain JSON for scripts instead of tables.")
    ] = False,
) -> None:
    """Show a node: type, pk, uuid, label, attributes and its links in and out."""
    with read_session(ctx) as session:
        detail = queries.node_detail(session, pk)
    if as_json:
        jsonout.emit(jsonout.node_detail(detail))
    else:
        render.stdout_console().print(render.node_detail(detail, dt.datetime.now(dt.UTC)))


class GraphFormat(enum.StrEnum):
    """What ``node graph`` writes: dot text, or an image rendered by Graphviz."""

    DOT = "dot"
    SVG = "svg"
    PNG = "png"
    PDF = "pdf"


@app.command("graph")
def graph_command(
    ctx: typer.Context,
    pk: Annotated[int, typer.Argument(metavar="PK", help="The pk of the node in the middle.")],
    depth: Annotated[
        int, typer.Option("--depth", "-d", min=0, help="How many links away to follow, both ways.")
    ] = 2,
    output_format: Annotated[
        GraphFormat,
        typer.Option("--format", "-f", case_sensitive=False, help="dot text, or an image."),
    ] = GraphFormat.DOT,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here (default: stdout for dot, PK.FORMAT)."),
    ] = None,
) -> None:
    """Draw the provenance graph around a node: processes as boxes, data as ellipses."""
    with read_session(ctx) as session:
        try:
            graph = neighbourhood(session, pk, depth)
        except NotExistentError as exc:
            fail(f"{exc}; `workactors process list` shows the stored processes")
    dot = to_dot(graph)
    if output_format is GraphFormat.DOT:
        if output is None:
            typer.echo(dot, nl=False)
        else:
            output.write_text(dot)
        return
    target = output or Path(f"{pk}.{output_format.value}")
    executable = shutil.which("dot")
    if executable is None:
        fail(
            f"rendering {output_format.value} needs Graphviz's `dot` on PATH (e.g. "
            "`apt install graphviz`); `--format dot` writes the graph as text without it"
        )
    rendered = subprocess.run(
        [executable, f"-T{output_format.value}", "-o", str(target)],
        input=dot,
        text=True,
        capture_output=True,
        check=False,
    )
    if rendered.returncode != 0:
        fail(f"Graphviz could not render the graph: {rendered.stderr.strip()}")
    render.stdout_console().print(f"Wrote {target}")
