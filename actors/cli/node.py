"""``workactors node ...``: inspect any node of the provenance graph."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from actors.cli import jsonout, queries, render
from actors.cli.context import read_session

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
