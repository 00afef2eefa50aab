"""The one SQL statement a ``QueryBuilder`` runs, and how its rows turn back into values.

Both sides share a ``Layout``: which keys of which vertex each column of a row holds, in order.
The statement is built from it, and a row is read back through it (entities rebuilt from all of
their columns, attribute paths decoded from JSON, link keys filed under the link's tag).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from provenance.models import DbGroup, DbNode
from provenance.query_joins import from_clause
from provenance.query_vertices import (
    Vertex,
    decode_projected,
    group_from_values,
    node_from_values,
)

#: Per projected vertex, the keys its columns hold, in the order of the row's columns.
Layout = list[tuple[Vertex, list[str]]]
#: An ordering entry of ``order_by``: ``(tag, key, "asc"|"desc")``.
Ordering = tuple[str, str, str]


def select_statement(
    vertices: list[Vertex],
    order: Sequence[Ordering],
    *,
    distinct: bool,
    limit: int | None,
    offset: int | None,
    dialect: str,
) -> tuple[Select[Any], Layout]:
    """The SELECT of the projections of ``vertices``, and the layout of its rows.

    When no vertex projects anything, the last one is projected whole (``*``), as aiida does.
    """
    if not any(vertex.project or vertex.edge_project for vertex in vertices):
        vertices[-1].project = ["*"]
    layout: Layout = []
    columns: list[ColumnElement[Any]] = []
    for vertex in vertices:
        keys: list[str] = []
        for key, column in vertex.columns(dialect):
            keys.append(key)
            columns.append(column.label(f"c{len(columns)}"))
        layout.append((vertex, keys))
    joined, conditions = from_clause(vertices, dialect)
    by_tag = {vertex.tag: vertex for vertex in vertices}
    ordering: list[ColumnElement[Any]] = []
    for tag, key, direction in order:
        field = by_tag[tag].field(key)
        for expression, descending in field.order(dialect, descending=direction == "desc"):
            sort_key: ColumnElement[Any] = expression
            if distinct:
                # PostgreSQL orders a DISTINCT select by its own columns only: the sort
                # keys go after the projections (rows are built from the projections).
                sort_key = expression.label(f"c{len(columns)}")
                columns.append(sort_key)
            ordering.append(sort_key.desc() if descending else sort_key.asc())
    statement = sa.select(*columns).select_from(joined).where(*conditions)
    if distinct:
        statement = statement.distinct()
    statement = statement.order_by(*ordering)
    if limit is not None:
        statement = statement.limit(limit)
    if offset is not None:
        statement = statement.offset(offset)
    return statement, layout


def row_values(layout: Layout, row: Sequence[Any]) -> list[tuple[str, str, Any]]:
    """``(tag, key, value)`` per projection of a raw row, entities built from their columns."""
    values: list[tuple[str, str, Any]] = []
    index = 0
    for vertex, keys in layout:
        entity: dict[str, Any] = {}
        for key in keys:
            value = row[index]
            index += 1
            if key.startswith("*"):
                entity[key[1:]] = value
                if len(entity) == (
                    len(DbNode.__table__.c) if vertex.kind == "node" else len(DbGroup.__table__.c)
                ):
                    built = (
                        node_from_values(entity)
                        if vertex.kind == "node"
                        else group_from_values(entity)
                    )
                    values.append((vertex.tag, "*", built))
                    entity = {}
            elif key.startswith("edge:"):
                values.append((vertex.edge_tag, key[5:], value))
            else:
                values.append((vertex.tag, key, decode_projected(key, value)))
    return values
