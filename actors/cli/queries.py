"""Read models of the CLI: what each verb shows, fetched in a few set-based queries.

The CLI reads the database directly instead of loading ``Node`` objects one by one, so that a
listing costs one query however many processes it shows, and so that rendering (tables or JSON)
works on plain, immutable values that no longer need a session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from provenance import (
    LinkType,
    LogEntry,
    NotExistentError,
    ProcessNode,
    ProcessState,
    WorkactorsError,
)
from provenance.models import DbLink, DbLog, DbNode

#: Attribute under which each kind of data node keeps its value (``Int``... ``FrozenDict``).
_VALUE_ATTRIBUTES = ("value", "list", "dict", "nodes")


class NotAProcessError(WorkactorsError):
    """A process verb was given the pk of a node that is not a process."""


def as_utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` as an aware UTC time: SQLite hands back the stored UTC times without a zone."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def is_process_type(node_type: str) -> bool:
    """True for the node types of processes (``process`` and its ``process.*`` subtypes)."""
    root = ProcessNode.node_type
    return node_type == root or node_type.startswith(f"{root}.")


@dataclass(frozen=True, slots=True)
class NodeSummary:
    """The columns of one node that every view needs, detached from any session."""

    pk: int
    uuid: str
    node_type: str
    label: str
    attributes: Mapping[str, Any]
    ctime: dt.datetime
    mtime: dt.datetime

    @classmethod
    def from_row(cls, row: DbNode) -> NodeSummary:
        """Copy a model row so that it outlives its session."""
        return cls(
            pk=row.id,
            uuid=row.uuid,
            node_type=row.node_type,
            label=row.label,
            attributes=dict(row.attributes or {}),
            ctime=as_utc(row.ctime),
            mtime=as_utc(row.mtime),
        )

    @property
    def is_process(self) -> bool:
        """True if the node records a process run."""
        return is_process_type(self.node_type)

    @property
    def process_label(self) -> str:
        """The process class or function name; empty for data nodes."""
        return str(self.attributes.get("process_label", ""))

    @property
    def state(self) -> ProcessState | None:
        """The recorded process state; None for data nodes and unknown values."""
        value = self.attributes.get("process_state")
        try:
            return None if value is None else ProcessState(value)
        except ValueError:
            return None

    @property
    def paused(self) -> bool:
        """True while the process is paused (a runtime sets the attribute, and clears it)."""
        return bool(self.attributes.get("paused"))

    @property
    def cached_from(self) -> str | None:
        """The uuid of the run whose results this one reused, if it was a cache hit."""
        value = self.attributes.get("cached_from")
        return value if isinstance(value, str) else None

    @property
    def exit_status(self) -> int | None:
        """The exit status, once the process finished."""
        value = self.attributes.get("exit_status")
        return value if isinstance(value, int) else None

    @property
    def exit_message(self) -> str | None:
        """The message of the exit code or of the kill, if any."""
        value = self.attributes.get("exit_message")
        return value if isinstance(value, str) else None

    @property
    def exception(self) -> str | None:
        """The stored traceback of an EXCEPTED process."""
        value = self.attributes.get("exception")
        return value if isinstance(value, str) else None

    @property
    def value(self) -> Any:
        """The value a data node holds (a FrozenDict gives its uuids), None if it has none."""
        for key in _VALUE_ATTRIBUTES:
            if key in self.attributes:
                return self.attributes[key]
        return None


@dataclass(frozen=True, slots=True)
class Link:
    """One edge seen from one of its ends: its type, its label and the node at the other end."""

    link_type: LinkType
    label: str
    node: NodeSummary


@dataclass(frozen=True, slots=True)
class NodeDetail:
    """A node with every link into and out of it."""

    node: NodeSummary
    description: str
    incoming: list[Link]
    outgoing: list[Link]

    def incoming_of(self, *types: LinkType) -> list[Link]:
        """The incoming links of the given types, oldest first."""
        return [link for link in self.incoming if link.link_type in types]

    def outgoing_of(self, *types: LinkType) -> list[Link]:
        """The outgoing links of the given types, oldest first."""
        return [link for link in self.outgoing if link.link_type in types]


@dataclass(frozen=True, slots=True)
class ProcessPage:
    """The processes a listing shows, oldest first, and how many match in all."""

    processes: list[NodeSummary]
    total: int


@dataclass(slots=True)
class ReportTree:
    """The log of one process and, under it, the reports of the processes it called."""

    process: NodeSummary
    logs: list[LogEntry] = field(default_factory=list)
    children: list[ReportTree] = field(default_factory=list)


def _missing(pk: int) -> NotExistentError:
    return NotExistentError(
        f"no node with pk {pk} in the provenance database; "
        "`workactors process list` shows the stored processes"
    )


def _require_process(node: NodeSummary) -> None:
    if not node.is_process:
        raise NotAProcessError(
            f"node {node.pk} is a {node.node_type} node, not a process; "
            f"`workactors node show {node.pk}` shows it"
        )


def _links(session: Session, pk: int, *, incoming: bool) -> list[Link]:
    mine, other = (
        (DbLink.output_id, DbLink.input_id) if incoming else (DbLink.input_id, DbLink.output_id)
    )
    query = (
        sa.select(DbLink.link_type, DbLink.label, DbNode)
        .join(DbNode, DbNode.id == other)
        .where(mine == pk)
        .order_by(DbLink.id)
    )
    return [
        Link(LinkType(link_type), label, NodeSummary.from_row(node))
        for link_type, label, node in session.execute(query)
    ]


def node_detail(session: Session, pk: int) -> NodeDetail:
    """Node ``pk`` with its links, in three queries.

    Raises:
        NotExistentError: if no node has that pk.
    """
    row = session.get(DbNode, pk)
    if row is None:
        raise _missing(pk)
    return NodeDetail(
        node=NodeSummary.from_row(row),
        description=row.description,
        incoming=_links(session, pk, incoming=True),
        outgoing=_links(session, pk, incoming=False),
    )


def process_detail(session: Session, pk: int) -> NodeDetail:
    """Like ``node_detail``, for a process node.

    Raises:
        NotExistentError: if no node has that pk.
        NotAProcessError: if node ``pk`` is not a process node.
    """
    detail = node_detail(session, pk)
    _require_process(detail.node)
    return detail


def _called_by(session: Session, pks: Iterable[int]) -> list[tuple[int, NodeSummary]]:
    query = (
        sa.select(DbLink.input_id, DbNode)
        .join(DbNode, DbNode.id == DbLink.output_id)
        .where(DbLink.link_type == LinkType.CALL.value, DbLink.input_id.in_(list(pks)))
        .order_by(DbLink.id)
    )
    return [(caller, NodeSummary.from_row(node)) for caller, node in session.execute(query)]


def call_tree(session: Session, pk: int) -> ReportTree:
    """Process ``pk`` and every process it called, directly or not, without their logs.

    The CALL tree is walked one generation per query, so a deep work chain costs its depth in
    queries, not its size. A process met twice (which provenance should never record) appears
    once.

    Raises:
        NotExistentError: if no node has that pk.
        NotAProcessError: if node ``pk`` is not a process node.
    """
    row = session.get(DbNode, pk)
    if row is None:
        raise _missing(pk)
    root = ReportTree(NodeSummary.from_row(row))
    _require_process(root.process)
    trees = {pk: root}
    generation = [pk]
    while generation:
        next_generation: list[int] = []
        for caller, child in _called_by(session, generation):
            if child.pk in trees or not child.is_process:
                continue
            trees[child.pk] = ReportTree(child)
            trees[caller].children.append(trees[child.pk])
            next_generation.append(child.pk)
        generation = next_generation
    return root


def _walk(tree: ReportTree) -> Iterator[ReportTree]:
    yield tree
    for child in tree.children:
        yield from _walk(child)


def process_report(session: Session, pk: int) -> ReportTree:
    """The logs of process ``pk`` and of every process it called, directly or not: the
    ``call_tree`` and one more query for the logs of all of it.

    Raises:
        NotExistentError: if no node has that pk.
        NotAProcessError: if node ``pk`` is not a process node.
    """
    root = call_tree(session, pk)
    trees = {tree.process.pk: tree for tree in _walk(root)}
    logs = session.execute(
        sa.select(DbLog).where(DbLog.node_id.in_(list(trees))).order_by(DbLog.id)
    ).scalars()
    for log in logs:
        trees[log.node_id].logs.append(
            LogEntry(as_utc(log.time), log.levelname, log.loggername, log.message, dict(log.meta))
        )
    return root
