"""``workactors node rehash``: recompute the content hashes caching matches on.

Needed after the hash rules change. Data nodes are hashed from what the database holds; a
process node from the hash of the code that ran (kept in its ``source_hash`` attribute at
launch: today's code may differ, and a run of old code must not pass for a run of the new) and
its inputs' hashes. A process without a source hash (submitted to the daemon, or of a class
without source), or with an input that is not a data node, keeps the hash it had (it is
counted). A process imported from an archive is left without a hash (one it has is removed):
its outputs were produced elsewhere, and a hash would make it a cache source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from actors.caching import SOURCE_HASH
from provenance.hashing import data_hash, process_hash
from provenance.log import get_logger
from provenance.models import DbLink, DbNode
from provenance.records import LinkType
from provenance.storage import Storage

log = get_logger(__name__)

BATCH = 2000
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class RehashCounts:
    """What ``rehash`` did."""

    data: int
    processes: int
    unhashable: int
    #: Processes imported from an archive, left without a hash.
    imported: int


def _rows(connection: Connection, pks: Sequence[int] | None) -> Iterator[Any]:
    query = sa.select(DbNode.id, DbNode.node_type, DbNode.attributes, DbNode.imported).order_by(
        DbNode.id
    )
    if pks is None:
        yield from connection.execute(query)
        return
    for start in range(0, len(pks), BATCH):
        yield from connection.execute(query.where(DbNode.id.in_(pks[start : start + BATCH])))


def _inputs(connection: Connection, pk: int) -> list[tuple[str, str, str | None]]:
    query = (
        sa.select(DbLink.label, DbNode.node_type, DbNode.node_hash)
        .join(DbNode, DbNode.id == DbLink.input_id)
        .where(DbLink.output_id == pk, DbLink.link_type == LinkType.INPUT.value)
    )
    return [
        (label, node_type, node_hash) for label, node_type, node_hash in connection.execute(query)
    ]


def rehash(
    storage: Storage, pks: Sequence[int] | None = None, progress: Progress | None = None
) -> RehashCounts:
    """Recompute the hashes of the nodes ``pks`` (all if None), data first, in one transaction."""
    hashes: dict[int, str | None] = {}
    processes: list[tuple[int, dict[str, Any]]] = []
    imported: dict[int, str | None] = {}
    with storage.write_engine.begin() as connection:
        for pk, node_type, attributes, was_imported in _rows(connection, pks):
            if node_type.startswith("process"):
                if was_imported:
                    imported[pk] = None
                else:
                    processes.append((pk, dict(attributes)))
            else:
                hashes[pk] = data_hash(node_type, attributes)
        _store(connection, hashes, progress)
        _store(connection, imported, progress)
        data = len(hashes)
        process_hashes: dict[int, str | None] = {}
        for pk, attributes in processes:
            process_hashes[pk] = _process_hash(connection, pk, attributes)
        # A class not importable here keeps the hash it had: it may well be importable where
        # it runs.
        _store(
            connection,
            {pk: value for pk, value in process_hashes.items() if value is not None},
            progress,
        )
    unhashable = sum(1 for value in process_hashes.values() if value is None)
    counts = RehashCounts(
        data=data,
        processes=len(processes) - unhashable,
        unhashable=unhashable,
        imported=len(imported),
    )
    log.info(
        "rehash.done",
        data=counts.data,
        processes=counts.processes,
        unhashable=unhashable,
        imported=counts.imported,
    )
    return counts


def _process_hash(connection: Connection, pk: int, attributes: dict[str, Any]) -> str | None:
    path, code = attributes.get("process_class"), attributes.get(SOURCE_HASH)
    if not isinstance(path, str) or not isinstance(code, str):
        return None
    inputs = _inputs(connection, pk)
    if any(
        node_hash is None or node_type.startswith("process")
        for _label, node_type, node_hash in inputs
    ):
        return None
    return process_hash(
        path, code, {label: node_hash for label, _type, node_hash in inputs if node_hash}
    )


def _store(
    connection: Connection, hashes: dict[int, str | None], progress: Progress | None
) -> None:
    items = list(hashes.items())
    statement = (
        sa.update(DbNode)
        .where(DbNode.id == sa.bindparam("pk"))
        .values(node_hash=sa.bindparam("value"))
    )
    for start in range(0, len(items), BATCH):
        batch = items[start : start + BATCH]
        connection.execute(statement, [{"pk": pk, "value": value} for pk, value in batch])
        if progress is not None:
            progress(len(batch))
