"""What each page and API answer shows, read in one session from the read models of the CLI.

Plain functions of a ``Runtime``, run in a worker thread by the handlers, so that the event loop
never waits on the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actors.cli import queries, report
from actors.cli.queries import Link, NodeDetail, NodeSummary, ReportTree
from actors.daemon.requeue import FailedCheckpoint, failed_checkpoints
from actors.daemon.shared_queue import shared_queue
from actors.daemon.status import DaemonView, view
from actors.runtime import Runtime
from actors.web.filters import ProcessFilter
from actors.web.listing import ListingPage, list_page
from provenance import LinkType


@dataclass(frozen=True, slots=True)
class ProcessView:
    """Everything the page of one process shows."""

    detail: NodeDetail
    tree: ReportTree
    events: list[report.Event]

    @property
    def node(self) -> NodeSummary:
        """The process itself."""
        return self.detail.node

    @property
    def caller(self) -> NodeSummary | None:
        """The process that called this one, if any."""
        callers = self.detail.incoming_of(LinkType.CALL)
        return callers[0].node if callers else None

    @property
    def inputs(self) -> list[Link]:
        """The data it was given."""
        return self.detail.incoming_of(LinkType.INPUT)

    @property
    def outputs(self) -> list[Link]:
        """The data it created or returned."""
        return self.detail.outgoing_of(LinkType.CREATE, LinkType.RETURN)

    @property
    def terminal(self) -> bool:
        """True once the process ended: nothing more will change."""
        state = self.node.state
        return (
            state is not None
            and state.is_terminal
            and all(_ended(child) for child in _descendants(self.tree))
        )


def _descendants(tree: ReportTree) -> list[NodeSummary]:
    found: list[NodeSummary] = []
    for child in tree.children:
        found.append(child.process)
        found.extend(_descendants(child))
    return found


def _ended(node: NodeSummary) -> bool:
    state = node.state
    return state is not None and state.is_terminal


@dataclass(frozen=True, slots=True)
class DaemonPage:
    """The daemon's supervisor and workers, and the checkpoints that wait or failed."""

    seen: DaemonView
    failed: list[FailedCheckpoint]
    #: The workers of every machine on a shared database; None without one.
    shared_workers: list[dict[str, Any]] | None = None


def processes(runtime: Runtime, chosen: ProcessFilter) -> ListingPage:
    """One page of the process list."""
    with runtime.storage.read_session() as session:
        return list_page(session, chosen)


def process(runtime: Runtime, pk: int) -> ProcessView:
    """Process ``pk`` with its links, call tree and report timeline.

    Raises:
        NotExistentError: if no node has that pk.
        NotAProcessError: if node ``pk`` is not a process.
    """
    with runtime.storage.read_session() as session:
        detail = queries.process_detail(session, pk)
        tree, events = report.load_report(session, pk)
    return ProcessView(detail, tree, events)


def node(runtime: Runtime, pk: int) -> NodeDetail:
    """Node ``pk``, data or process, with its links.

    Raises:
        NotExistentError: if no node has that pk.
    """
    with runtime.storage.read_session() as session:
        return queries.node_detail(session, pk)


def daemon(runtime: Runtime) -> DaemonPage:
    """What ``daemon status`` and ``process requeue --list`` show, for the home served."""
    seen = view(runtime.home)
    queue = shared_queue(runtime.storage.url) if runtime.shared_database else None
    if queue is None:
        return DaemonPage(seen, failed_checkpoints(runtime))
    return DaemonPage(queue.applied_to(seen), failed_checkpoints(runtime), queue.workers)
