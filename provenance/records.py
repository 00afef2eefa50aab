"""Plain records that travel to the provenance actor: snapshots, never live node objects.

A record is immutable and refers to nodes by uuid, so that it may cross threads and be applied
in any later transaction.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class LinkType(enum.Enum):
    """What an edge of the provenance graph means."""

    INPUT = "input"
    """Data consumed by a process (data -> process)."""
    CREATE = "create"
    """Data a process created (process -> data)."""
    RETURN = "return"
    """Existing data a process returned as an output (process -> data)."""
    CALL = "call"
    """A process started by another process (caller -> called)."""


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """A node to insert."""

    uuid: str
    node_type: str
    attributes: Mapping[str, Any]
    label: str = ""
    description: str = ""
    ctime: dt.datetime | None = None
    node_hash: str | None = None
    #: True if every value passed the value rule where the record was made (the node checks
    #: each value it takes): the provenance actor does not check them a second time.
    checked: bool = field(default=False, kw_only=True, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class LinkRecord:
    """An edge to insert between two nodes, both already stored or stored in the same write."""

    source_uuid: str
    target_uuid: str
    link_type: LinkType
    label: str


@dataclass(frozen=True, slots=True)
class AttributeUpdate:
    """The whole new attribute set of a stored node (a process node, as its state advances).

    The sender owns the node and holds all of its attributes, so a replacement costs one UPDATE
    where a merge would need a read first.
    """

    uuid: str
    attributes: Mapping[str, Any]
    #: As ``NodeRecord.checked``: left False by whoever builds the record by hand.
    checked: bool = field(default=False, kw_only=True, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class LogRecord:
    """A log line bound to a node: by pk, or (``node_pk`` None) by the uuid of a node stored
    in the same write, whose pk is not known yet when the write is made."""

    node_pk: int | None
    levelname: str
    loggername: str
    message: str
    time: dt.datetime
    metadata: Mapping[str, Any] = field(default_factory=dict)
    node_uuid: str | None = None


@dataclass(frozen=True, slots=True)
class GroupAddition:
    """Nodes to add to a group, creating the group if it does not exist."""

    label: str
    type_string: str
    node_uuids: tuple[str, ...]
    group_uuid: str


WriteOp = NodeRecord | LinkRecord | AttributeUpdate | LogRecord | GroupAddition
