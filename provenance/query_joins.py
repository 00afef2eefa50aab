"""How a ``QueryBuilder``'s vertices become one FROM clause: joins through links and group
memberships, and recursive common table expressions for ancestors and descendants."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from provenance.models import DbNode
from provenance.query_vertices import Vertex, group_membership, link_alias


def from_clause(
    vertices: list[Vertex], dialect: str
) -> tuple[FromClause, list[ColumnElement[bool]]]:
    """The joins of every vertex and the conditions of their filters."""
    first = vertices[0]
    joined: FromClause = first.table
    conditions = [first.condition(dialect)]
    by_tag = {first.tag: first}
    for vertex in vertices[1:]:
        assert vertex.relationship is not None
        relationship, other_tag = vertex.relationship
        other = by_tag[other_tag]
        joined = _join(joined, vertex, other, relationship, dialect, f"v{vertices.index(vertex)}")
        conditions.append(vertex.condition(dialect))
        if vertex.edge_table is not None:
            conditions.append(vertex.edge_condition(dialect))
        by_tag[vertex.tag] = vertex
    return joined, conditions


def _join(  # noqa: PLR0917 - one join, all of its parts
    joined: FromClause, vertex: Vertex, other: Vertex, relationship: str, dialect: str, name: str
) -> FromClause:
    mine, theirs = vertex.table.c, other.table.c
    # Each join goes through a middle table (a link, a membership or the closure), entered on
    # the side already in the FROM clause, then reaches the new vertex on the other side.
    middle: FromClause
    if relationship in {"with_incoming", "with_outgoing"}:
        assert vertex.edge_table is not None
        middle = vertex.edge_table
        sides = ("input_id", "output_id")
    elif relationship in {"with_group", "with_node"}:
        middle = group_membership()
        sides = ("group_id", "node_id")
    else:
        middle = _closure(other, name, dialect, downwards=relationship == "with_ancestors")
        sides = ("start", "reached")
    backwards = relationship in {"with_outgoing", "with_node"}
    near, far = reversed(sides) if backwards else sides
    joined = joined.join(middle, middle.c[near] == theirs.id)
    return joined.join(vertex.table, middle.c[far] == mine.id)


def _closure(seed: Vertex, name: str, dialect: str, *, downwards: bool) -> FromClause:
    """Recursive CTE of ``(start, reached)``: every node ``reached`` from a node ``start``
    that passes ``seed``'s own filters, following links forwards (descendants) or
    backwards (ancestors). UNION, not UNION ALL: a node reached twice is kept once."""
    links = link_alias()
    near, far = (
        (links.c.input_id, links.c.output_id)
        if downwards
        else (
            links.c.output_id,
            links.c.input_id,
        )
    )
    seeds = DbNode.__table__.alias(f"seed_{name}")
    anchor = (
        sa.select(near.label("start"), far.label("reached"))
        .select_from(links.join(seeds, seeds.c.id == near))
        .where(seed.condition(dialect, seeds))
    )
    closure = anchor.cte(f"closure_{name}", recursive=True)
    step = link_alias()
    step_near, step_far = (
        (step.c.input_id, step.c.output_id)
        if downwards
        else (
            step.c.output_id,
            step.c.input_id,
        )
    )
    recursive = sa.select(closure.c.start, step_far).select_from(
        closure.join(step, step_near == closure.c.reached)
    )
    return closure.union(recursive)
