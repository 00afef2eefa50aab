"""The provenance graph around one node, as plain data and as Graphviz ``dot`` text.

The neighbourhood is gathered breadth-first, one query per hop for the links and one for the
nodes, so a graph of any size costs a few queries per level of depth.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import graphviz
import sqlalchemy as sa
from sqlalchemy.orm import Session

from provenance.errors import NotExistentError
from provenance.models import DbLink, DbNode
from provenance.process_state import ProcessState
from provenance.records import LinkType

#: Fill colours of process nodes by state, so failures stand out in a large graph.
_STATE_COLOURS = {
    ProcessState.CREATED: "#eeeeee",
    ProcessState.RUNNING: "#fff2a8",
    ProcessState.WAITING: "#fff2a8",
    ProcessState.FINISHED: "#c8e6c9",
    ProcessState.EXCEPTED: "#ffcdd2",
    ProcessState.KILLED: "#ffe0b2",
}
_VALUE_CHARS = 40


@dataclass(frozen=True, slots=True)
class GraphNode:
    """One vertex: what the picture shows of a node."""

    pk: int
    node_type: str
    label: str
    attributes: dict[str, Any]

    @property
    def is_process(self) -> bool:
        """True for process nodes (drawn as boxes)."""
        return self.node_type == "process" or self.node_type.startswith("process.")


@dataclass(frozen=True, slots=True)
class GraphEdge:
    """One link: ``source`` -> ``target``, of ``link_type``, labelled ``label``."""

    source: int
    target: int
    link_type: str
    label: str


@dataclass(frozen=True, slots=True)
class ProvenanceGraph:
    """The nodes within ``depth`` links of ``root``, and the links between them."""

    root: int
    nodes: dict[int, GraphNode]
    edges: list[GraphEdge]


def neighbourhood(session: Session, root: int, depth: int = 2) -> ProvenanceGraph:
    """Gather every node at most ``depth`` links away from ``root``, either direction.

    Raises:
        NotExistentError: if no node has pk ``root``.
        ValueError: if ``depth`` is negative.
    """
    if depth < 0:
        raise ValueError(f"depth must be 0 or more, not {depth}")
    if session.get(DbNode, root) is None:
        raise NotExistentError(f"no node with pk {root} in the provenance database")
    seen = {root}
    frontier = {root}
    edges: dict[tuple[int, int, str, str], GraphEdge] = {}
    for _hop in range(depth):
        rows = session.execute(
            sa.select(DbLink.input_id, DbLink.output_id, DbLink.link_type, DbLink.label).where(
                sa.or_(DbLink.input_id.in_(frontier), DbLink.output_id.in_(frontier))
            )
        ).all()
        reached: set[int] = set()
        for source, target, link_type, label in rows:
            edges[(source, target, link_type, label)] = GraphEdge(source, target, link_type, label)
            reached.update((source, target))
        frontier = reached - seen
        seen |= reached
        if not frontier:
            break
    nodes = _load(session, seen)
    kept = [edge for edge in edges.values() if edge.source in nodes and edge.target in nodes]
    return ProvenanceGraph(root, nodes, sorted(kept, key=lambda e: (e.source, e.target, e.label)))


def _load(session: Session, pks: Iterable[int]) -> dict[int, GraphNode]:
    rows = session.execute(
        sa.select(DbNode.id, DbNode.node_type, DbNode.label, DbNode.attributes).where(
            DbNode.id.in_(list(pks))
        )
    ).all()
    return {
        pk: GraphNode(pk, node_type, label, dict(attributes))
        for pk, node_type, label, attributes in rows
    }


def _caption(node: GraphNode) -> str:
    kind = node.node_type.rsplit(".", 1)[-1] or node.node_type
    if node.is_process:
        name = node.attributes.get("process_label") or kind
        state = node.attributes.get("process_state", "")
        status = node.attributes.get("exit_status")
        suffix = f" [{status}]" if status not in (None, 0) else ""
        return f"{name} #{node.pk}\n{state}{suffix}"
    value = next(
        (node.attributes[key] for key in ("value", "list", "dict") if key in node.attributes),
        None,
    )
    shown = "" if value is None else json.dumps(value, default=str, ensure_ascii=False)
    if len(shown) > _VALUE_CHARS:
        shown = shown[: _VALUE_CHARS - 1] + "…"
    return f"{kind.capitalize()} #{node.pk}" + (f"\n{shown}" if shown else "")


def _dot_text(text: str) -> str:
    """``text`` as a dot label that draws exactly these characters: backslashes and ``<...>``
    are escaped (``graphviz.escape``), line breaks become dot's centred ``\\n``."""
    lines = (graphviz.escape(line) for line in text.split("\n"))
    label: str = graphviz.nohtml("\\n".join(lines))
    return label


def _edge_label(edge: GraphEdge) -> str:
    """``INPUT\\na``; a link whose label only repeats its type (every CALL) says it once."""
    kind = edge.link_type.upper()
    return kind if edge.label.upper() in ("", kind) else f"{kind}\n{edge.label}"


def to_digraph(
    graph: ProvenanceGraph, href: Callable[[GraphNode], str] | None = None
) -> graphviz.Digraph:
    """The graph as a ``graphviz.Digraph``: processes as boxes coloured by state, data as
    ellipses. The ``graphviz`` package quotes every label, so any Unicode and any quote or
    backslash in a label or value is drawn as it was stored.

    Args:
        graph: what to draw.
        href: the address each node links to in an SVG rendering (a web page one clicks
            through); None draws no links.
    """
    dot = graphviz.Digraph(
        name=f"provenance_{graph.root}",
        graph_attr={"rankdir": "TB"},
        node_attr={"fontname": "Helvetica", "fontsize": "10"},
        edge_attr={"fontname": "Helvetica", "fontsize": "8"},
    )
    for pk in sorted(graph.nodes):
        node = graph.nodes[pk]
        attributes = {"style": "filled"}
        if node.is_process:
            state = node.attributes.get("process_state")
            colour = next((c for s, c in _STATE_COLOURS.items() if s.value == state), "#eeeeee")
            attributes |= {"shape": "box", "fillcolor": colour}
        else:
            attributes |= {"shape": "ellipse", "fillcolor": "#e3f2fd"}
        if pk == graph.root:
            attributes["penwidth"] = "3"
        if href is not None:
            attributes |= {"href": href(node), "target": "_top", "tooltip": f"#{pk}"}
        dot.node(f"N{pk}", label=_dot_text(_caption(node)), **attributes)
    for edge in graph.edges:
        extra = {"style": "dashed"} if edge.link_type == LinkType.CALL.value else {}
        dot.edge(f"N{edge.source}", f"N{edge.target}", label=_dot_text(_edge_label(edge)), **extra)
    return dot


def to_dot(graph: ProvenanceGraph) -> str:
    """The graph in Graphviz ``dot`` text (see ``to_digraph``)."""
    source: str = to_digraph(graph).source
    return source
