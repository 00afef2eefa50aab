"""The provenance writes that store a process: its launch, then its end.

A launch writes the new inputs, the process's node and its links in one batch; the end writes
the new outputs, their links and the node's final attributes in one batch. Each batch is built
here as ``WriteOp`` records and sent by whoever launches or ends the process (``Launcher``,
``launch_cached``, the process actors), which then hands the pks the database gave back to the
matching ``mark_*``. They are functions of a ``Process``, not its methods: no process class
changes how it is stored, and the class users subclass keeps only what they may use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from actors.nested import leaves, link_label
from provenance.data import Data
from provenance.records import LinkRecord, LinkType, NodeRecord, WriteOp

if TYPE_CHECKING:
    from actors.process import Process


def launch_ops(
    process: Process, caller_uuid: str | None, seen: set[str] | None = None
) -> list[WriteOp]:
    """Writes that store the new process: its inputs, its node, its links. ``seen``: the
    uuids of the nodes already in the batch these writes join (an input that several
    processes of one batch share is inserted once); updated."""
    ops: list[WriteOp] = []
    links: list[WriteOp] = []
    seen = set() if seen is None else seen
    node = process._node
    uuid = node.uuid
    for path, value in leaves(process._inputs):
        if isinstance(value, Data):
            if not value.is_stored:
                ops.extend(_new_records(value, seen))
            links.append(LinkRecord(value.uuid, uuid, LinkType.INPUT, link_label(path)))
    ops.append(node._record())
    ops.extend(links)
    if caller_uuid is not None:
        ops.append(LinkRecord(caller_uuid, node.uuid, LinkType.CALL, "CALL"))
    return ops


def mark_launched(process: Process, pks: Mapping[str, int]) -> None:
    """Give the node and the new inputs their pks."""
    for _path, value in leaves(process._inputs):
        if isinstance(value, Data) and not value.is_stored:
            value._mark_stored(pks)
    process._node._mark_stored(pks)


def termination_ops(process: Process) -> list[WriteOp]:
    """Writes that record the end: outputs, their links, the final node attributes."""
    ops: list[WriteOp] = []
    seen: set[str] = set()
    created_here: set[str] = set()
    node = process._node
    for name, value in process._outputs.items():
        # A node is created once: emitted again under another label, it is returned.
        created = not value.is_stored and value.uuid not in created_here
        if created:
            ops.extend(_new_records(value, seen))
            created_here.add(value.uuid)
        link_type = LinkType.CREATE if created else LinkType.RETURN
        ops.append(LinkRecord(node.uuid, value.uuid, link_type, link_label(name)))
    ops.append(node.attribute_update())
    return ops


def mark_terminated(process: Process, pks: Mapping[str, int]) -> None:
    """Give the new outputs their pks."""
    for value in process._outputs.values():
        if not value.is_stored and value.uuid in pks:
            value._mark_stored(pks)


def _new_records(node: Data, seen: set[str]) -> list[NodeRecord]:
    """The records of ``node`` (and of the nodes it holds) not in ``seen`` yet: a node given
    twice in one batch is inserted once."""
    records = []
    for record in node._records_to_store():
        if record.uuid not in seen:
            seen.add(record.uuid)
            records.append(record)
    return records


__all__ = ["launch_ops", "mark_launched", "mark_terminated", "termination_ops"]
