"""The provenance graph around a node as an SVG one can click through.

Each node of the picture links to its page (a process to ``/processes/PK``, data to
``/nodes/PK``). Graphviz's ``dot`` draws it in a child process with a time limit, so that a
huge neighbourhood cannot hold a server thread forever.
"""

from __future__ import annotations

import shutil
import subprocess

from sqlalchemy.orm import Session

from actors.web.errors import WebError
from provenance.graph import GraphNode, neighbourhood, to_digraph

#: Seconds ``dot`` may take to draw one graph.
DOT_TIMEOUT = 30.0
DEFAULT_DEPTH = 2
MAX_DEPTH = 6


class GraphError(WebError):
    """Graphviz is missing or failed to draw the graph (the message says which)."""

    status = 503


def node_href(node: GraphNode) -> str:
    """The dashboard page of a node of the graph."""
    return f"/processes/{node.pk}" if node.is_process else f"/nodes/{node.pk}"


def graph_svg(session: Session, pk: int, depth: int) -> str:
    """The neighbourhood of node ``pk`` within ``depth`` links, drawn as SVG text.

    Raises:
        NotExistentError: if no node has that pk.
        GraphError: if Graphviz's ``dot`` is missing, fails or takes too long.
    """
    graph = neighbourhood(session, pk, depth)
    source = to_digraph(graph, href=node_href).source
    executable = shutil.which("dot")
    if executable is None:
        raise GraphError(
            "drawing graphs needs Graphviz's `dot` on the server's PATH (`apt install graphviz`)"
        )
    try:
        done = subprocess.run(
            [executable, "-Tsvg"],
            input=source.encode(),
            capture_output=True,
            timeout=DOT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GraphError(
            f"Graphviz took more than {DOT_TIMEOUT:g} s to draw {len(graph.nodes)} nodes; "
            "ask for a smaller depth"
        ) from None
    if done.returncode:
        reason = done.stderr.decode(errors="replace").strip()
        raise GraphError(f"Graphviz could not draw the graph: {reason}")
    svg: bytes = done.stdout
    return svg.decode()


def inline_svg(svg: str) -> str:
    """The SVG element alone, to put inside a page (the XML prolog and doctype dropped)."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
