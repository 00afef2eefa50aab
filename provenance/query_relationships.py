"""How a vertex appended to a ``QueryBuilder`` is tied to an earlier one: the tag (or class)
that names it, the one relationship allowed between them, and the link it follows.

Checked at ``append``, so that a query with a dangling or impossible relationship never reaches
the database: every vertex after the first has exactly one relationship, to a vertex of the
kind it relates (nodes to nodes, nodes to groups, groups to nodes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from provenance.errors import QueryError
from provenance.query_arguments import keys_argument, mapping_argument
from provenance.query_vertices import RELATIONSHIPS, Vertex, link_alias

#: The relationships that follow one link, and so may filter and project its columns.
LINK_RELATIONSHIPS = frozenset({"with_incoming", "with_outgoing"})


def find_vertex(vertices: Sequence[Vertex], reference: Any, where: str) -> Vertex:
    """The vertex a tag (or a class appended once) names.

    Raises:
        QueryError: for an unknown tag, or a class appended several times.
    """
    if isinstance(reference, str):
        for vertex in vertices:
            if vertex.tag == reference:
                return vertex
    else:
        matches = [vertex for vertex in vertices if vertex.cls is reference]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise QueryError(
                f"{where}: {reference!r} was appended {len(matches)} times; name it by tag"
            )
    known = ", ".join(repr(vertex.tag) for vertex in vertices) or "none yet"
    raise QueryError(f"{where}: unknown tag {reference!r}; the tags are {known}")


def relate(vertex: Vertex, given: Mapping[str, Any], earlier: Sequence[Vertex]) -> None:
    """Tie ``vertex`` to the earlier vertex its one given relationship names.

    Args:
        vertex: the vertex being appended.
        given: the relationships passed to ``append`` (``with_incoming`` ...) that are not None.
        earlier: the vertices appended before it.

    Raises:
        QueryError: for several relationships, none after the first vertex, an unknown target
            or one of the wrong kind.
    """
    tag = vertex.tag
    if len(given) > 1:
        raise QueryError(
            f"tag {tag!r}: give one relationship, not {', '.join(given)}; append another "
            "vertex for each further relationship"
        )
    if given:
        [(relationship, target)] = given.items()
        other = find_vertex(earlier, target, f"{relationship} of tag {tag!r}")
        _check_relationship(relationship, vertex, other)
        vertex.relationship = (relationship, other.tag)
    elif earlier:
        raise QueryError(
            f"tag {tag!r}: every vertex after the first needs a relationship to an earlier "
            f"one ({', '.join(RELATIONSHIPS)})"
        )


def attach_link(vertex: Vertex, edge_filters: Any, edge_project: Any) -> None:
    """Give a related vertex the link it follows, with the link's filters and projections.

    Raises:
        QueryError: for link filters or projections on a vertex that follows no link.
    """
    follows_link = vertex.relationship is not None and vertex.relationship[0] in LINK_RELATIONSHIPS
    if edge_filters is not None or edge_project is not None:
        if not follows_link:
            raise QueryError(
                f"tag {vertex.tag!r}: edge_filters and edge_project apply to with_incoming or "
                "with_outgoing, the relationships that follow one link"
            )
        vertex.edge_filters = dict(mapping_argument(edge_filters, vertex.tag, "edge_filters"))
        vertex.edge_project = keys_argument(edge_project, vertex.tag, "edge_project")
    if follows_link:
        vertex.edge_table = link_alias()


def _check_relationship(relationship: str, vertex: Vertex, other: Vertex) -> None:
    wants_group = relationship == "with_group"
    if relationship == "with_node":
        if vertex.kind != "group" or other.kind != "node":
            raise QueryError(
                f"tag {vertex.tag!r}: with_node relates a Group vertex to a node vertex"
            )
        return
    if vertex.kind == "group":
        raise QueryError(f"tag {vertex.tag!r}: a Group vertex relates to nodes with with_node")
    if wants_group != (other.kind == "group"):
        raise QueryError(
            f"tag {vertex.tag!r}: {relationship} needs a "
            f"{'Group' if wants_group else 'node'} vertex, and {other.tag!r} is not one"
        )
