"""``workactors group ...``: named sets of nodes, to collect results and share them (archives)."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
import typer
from rich.table import Table
from rich.text import Text

from actors.cli import jsonout, render
from actors.cli.context import open_runtime
from actors.cli.format import value_preview
from actors.cli.identifiers import resolve_pks
from actors.cli.options import JsonFlag, NodePksArgument
from actors.cli.queries import NodeSummary
from provenance import Group, NotExistentError, QueryBuilder, load_nodes
from provenance.models import DbGroup, group_node

app = typer.Typer(
    help="Named sets of nodes: list, create, add to and show groups.", no_args_is_help=True
)


def _checked_label(label: str) -> str:
    """A usage error for a blank label, in every verb (``Group`` would raise a bare ValueError)."""
    if not label.strip():
        raise typer.BadParameter("a group label must not be empty")
    return label


LabelArgument = Annotated[
    str,
    typer.Argument(metavar="LABEL", help="The label of the group.", callback=_checked_label),
]


@app.command("list")
def list_command(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the groups with how many nodes each holds."""
    query = (
        sa.select(
            DbGroup.id, DbGroup.label, DbGroup.type_string, sa.func.count(group_node.c.node_id)
        )
        .outerjoin(group_node, group_node.c.group_id == DbGroup.id)
        .group_by(DbGroup.id, DbGroup.label, DbGroup.type_string)
        .order_by(DbGroup.label, DbGroup.type_string)
    )
    with open_runtime(ctx) as runtime, runtime.storage.read_session() as session:
        rows = session.execute(query).all()
    if as_json:
        jsonout.emit(
            [
                {"pk": pk, "label": label, "type_string": type_string, "nodes": count}
                for pk, label, type_string, count in rows
            ]
        )
        return
    if not rows:
        render.stdout_console().print(
            Text("No groups; `workactors group create LABEL` makes one.", style="dim")
        )
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("PK", "Label", "Type", "Nodes"):
        table.add_column(column, justify="right" if column in {"PK", "Nodes"} else "left")
    for pk, label, type_string, count in rows:
        table.add_row(str(pk), Text(label), Text(type_string), str(count))
    render.stdout_console().print(table)


@app.command("create")
def create_command(ctx: typer.Context, label: LabelArgument) -> None:
    """Create an empty group (nothing happens if it exists)."""
    with open_runtime(ctx):
        _group, created = Group.get_or_create(label)
    render.stdout_console().print(
        f"Created group {label!r}" if created else f"Group {label!r} exists already",
        markup=False,
        soft_wrap=True,
    )


@app.command("add")
def add_command(ctx: typer.Context, label: LabelArgument, pks: NodePksArgument) -> None:
    """Add nodes (pks, uuids or uuid prefixes) to a group, creating it if needed."""
    with open_runtime(ctx) as runtime:
        with runtime.storage.read_session() as session:
            chosen = resolve_pks(session, pks)
        found = QueryBuilder(storage=runtime.storage).append(
            filters={"id": {"in": chosen}}, project=["id", "uuid"]
        )
        uuid_of = dict(found.all())
        missing = sorted(set(chosen) - uuid_of.keys())
        if missing:
            raise NotExistentError(
                f"no node with pk {', '.join(map(str, missing))} in the provenance database; "
                "nothing was added"
            )
        uuids = [uuid_of[pk] for pk in chosen]
        group, _created = Group.get_or_create(label)
        group.add_nodes(load_nodes(uuids).values())
    render.stdout_console().print(
        f"Added {len(chosen)} node(s) to group {label!r}", markup=False, soft_wrap=True
    )


@app.command("show")
def show_command(ctx: typer.Context, label: LabelArgument, as_json: JsonFlag = False) -> None:
    """Show the nodes of a group: pk, type, label and value."""
    with open_runtime(ctx) as runtime:
        Group.get(label)
        query = QueryBuilder(storage=runtime.storage)
        query.append(Group, tag="group", filters={"label": label, "type_string": ""})
        query.append(
            with_group="group",
            tag="node",
            project=["id", "uuid", "node_type", "label", "attributes", "ctime", "mtime"],
        )
        query.order_by({"node": "id"})
        members = [
            NodeSummary(pk, uuid, node_type, node_label, dict(attributes), ctime, mtime)
            for pk, uuid, node_type, node_label, attributes, ctime, mtime in query.all()
        ]
    if as_json:
        jsonout.emit({"label": label, "nodes": [jsonout.node_summary(node) for node in members]})
        return
    table = Table(box=None, header_style="bold", pad_edge=False, title=f"Group {label}")
    for column in ("PK", "Type", "Label", "Value"):
        table.add_column(column, justify="right" if column == "PK" else "left")
    for node in members:
        shown = node.process_label if node.is_process else value_preview(node.value)
        table.add_row(str(node.pk), Text(node.node_type), Text(node.label), Text(shown))
    render.stdout_console().print(
        table if members else Text(f"Group {label!r} is empty.", style="dim")
    )
