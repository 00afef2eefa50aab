"""``workactors node ...``: inspect any node of the provenance graph."""

from __future__ import annotations

import datetime as dt
import enum
from pathlib import Path
from typing import Annotated

import graphviz
import sqlalchemy as sa
import typer
from sqlalchemy.orm import Session

from actors.cli import jsonout, queries, render
from actors.cli.context import fail, open_runtime, read_session
from actors.cli.guard import pk_list
from actors.cli.identifiers import node_argument, resolve_pks
from actors.cli.options import JsonFlag, NodePksArgument
from actors.rehash import rehash
from provenance.errors import NotExistentError
from provenance.graph import ProvenanceGraph, neighbourhood, to_digraph
from provenance.models import DbNode

app = typer.Typer(
    help="Inspect nodes of the provenance graph, data or process.", no_args_is_help=True
)


@app.command("show")
def show_command(ctx: typer.Context, pks: NodePksArgument, as_json: JsonFlag = False) -> None:
    """Show nodes: type, pk, uuid, label, attributes and their links in and out."""
    with read_session(ctx) as session:
        details = [queries.node_detail(session, pk) for pk in resolve_pks(session, pks)]
    if as_json:
        jsonout.emit(jsonout.one_or_many([jsonout.node_detail(detail) for detail in details]))
        return
    now = dt.datetime.now(dt.UTC)
    views = [render.node_detail(detail, now) for detail in details]
    render.stdout_console().print(render.separated(views))


class GraphFormat(enum.StrEnum):
    """What ``node graph`` writes: dot text, or an image rendered by Graphviz."""

    DOT = "dot"
    SVG = "svg"
    PNG = "png"
    PDF = "pdf"


def _merged(graphs: list[ProvenanceGraph]) -> ProvenanceGraph:
    """One picture of several neighbourhoods: the union of their nodes and links."""
    nodes = {pk: node for graph in graphs for pk, node in graph.nodes.items()}
    edges = {(e.source, e.target, e.link_type, e.label): e for g in graphs for e in g.edges}
    ordered = sorted(edges.values(), key=lambda e: (e.source, e.target, e.label))
    return ProvenanceGraph(graphs[0].root, nodes, ordered)


@app.command("graph")
def graph_command(
    ctx: typer.Context,
    pks: NodePksArgument,
    depth: Annotated[
        int,
        typer.Option(
            "--depth", "-d", min=0, max=1000, help="How many links away to follow, both ways."
        ),
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
    """Draw the provenance graph around nodes: processes as boxes, data as ellipses."""
    with read_session(ctx) as session:
        chosen = resolve_pks(session, pks)
        try:
            graph = _merged([neighbourhood(session, pk, depth) for pk in chosen])
        except NotExistentError as exc:
            fail(f"{exc}; `workactors process list` shows the stored processes")
    digraph = to_digraph(graph)
    if output_format is GraphFormat.DOT:
        if output is None:
            typer.echo(digraph.source, nl=False)
        else:
            output.write_text(digraph.source, encoding="utf-8")
        return
    target = output or Path(f"{chosen[0]}.{output_format.value}")
    try:
        image = digraph.pipe(format=output_format.value, encoding=None)
    except graphviz.ExecutableNotFound:
        fail(
            f"rendering {output_format.value} needs Graphviz's `dot` on PATH (e.g. "
            "`apt install graphviz`); `--format dot` writes the graph as text without it"
        )
    except graphviz.CalledProcessError as exc:
        reason = exc.stderr.decode(errors="replace").strip() if exc.stderr else str(exc)
        fail(f"Graphviz could not render the graph: {reason}")
    target.write_bytes(image)
    render.stdout_console().print(f"Wrote {target}")


def _missing(session: Session, pks: list[int]) -> list[int]:
    """The pks of ``pks`` that name no node."""
    found = set(session.execute(sa.select(DbNode.id).where(DbNode.id.in_(pks))).scalars())
    return sorted(set(pks) - found)


@app.command("rehash")
def rehash_command(
    ctx: typer.Context,
    pks: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[PK...]",
            parser=node_argument,
            help="The nodes to rehash (pk, uuid or prefix); default every node.",
        ),
    ] = None,
) -> None:
    """Recompute the content hashes that caching matches on (after a code change, or for
    processes run by the daemon); processes imported from an archive stay without one."""
    with open_runtime(ctx) as runtime:
        runtime.backend.sync()
        with runtime.storage.read_session() as session:
            chosen = resolve_pks(session, pks) if pks else None
            if chosen and (missing := _missing(session, chosen)):
                raise NotExistentError(
                    f"no node with pk {pk_list(missing)} in the provenance database; nothing "
                    "was rehashed"
                )
        with render.stderr_console().status("Rehashing...") as status:
            done = 0

            def advance(count: int) -> None:
                nonlocal done
                done += count
                status.update(f"Rehashing: {done} nodes")

            counts = rehash(runtime.storage, chosen, advance)
    render.stdout_console().print(
        f"Rehashed {counts.data} data nodes and {counts.processes} processes"
        + (
            f"; {counts.unhashable} processes have no hash (class not importable here, or "
            "inputs that are not data)"
            if counts.unhashable
            else ""
        )
        + (
            f"; {counts.imported} imported processes left unhashed (never cache sources)"
            if counts.imported
            else ""
        ),
        markup=False,
        soft_wrap=True,
    )
