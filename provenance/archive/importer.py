"""Importing an archive: by uuid, idempotent, all or nothing.

A node whose uuid the database holds already is the same node if its type, label, description
and attributes are equal: it is kept as it is (and its logs are not imported again). If they
differ, the import is refused and names the node: two databases disagree about what a uuid
means, and guessing would corrupt provenance. Links are added unless the same link (ends, type,
label) exists; groups are matched by uuid, and gain the members they lack.

An archive is not trusted with the hashes caching matches on: anyone can edit a value and
recompute the digests in ``metadata.json``, and a forged hash would make the forged value a
cache hit. So a data node's hash is recomputed from its imported content (the archive's value is
ignored), and a process node is stored without a hash: its outputs were produced elsewhere and
cannot be verified here, so an imported run is never a cache source. Every node it creates is
marked ``imported``, so that ``node rehash`` leaves such a process without a hash too.

The archive is read and checked completely first (``provenance.archive.reader``); then one
transaction writes everything, so that a failure (a conflict, a database error) leaves the
database as it was.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from provenance.archive.export import ArchiveCounts
from provenance.archive.format import CHUNK, trusted_hash
from provenance.archive.reader import ArchiveContent, read_archive
from provenance.errors import ArchiveError
from provenance.log import get_logger
from provenance.models import DbGroup, DbLink, DbLog, DbNode, group_node
from provenance.reading import read_storage, sync_open_backend
from provenance.storage import Storage

log = get_logger(__name__)

_COMPARED = ("node_type", "label", "description", "attributes")


def _batches(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _existing_nodes(connection: Connection, uuids: Iterable[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    columns = (
        DbNode.uuid,
        DbNode.id,
        DbNode.node_type,
        DbNode.label,
        DbNode.description,
        DbNode.attributes,
    )
    for batch in _batches(sorted(uuids)):
        for row in connection.execute(sa.select(*columns).where(DbNode.uuid.in_(batch))):
            found[row.uuid] = row
    return found


def _conflicts(content: ArchiveContent, existing: dict[str, Any]) -> list[str]:
    problems = []
    for node in content.nodes:
        row = existing.get(node["uuid"])
        if row is None:
            continue
        differing = [key for key in _COMPARED if getattr(row, key) != node[key]]
        if differing:
            problems.append(f"{node['uuid']} (pk {row.id}: {', '.join(differing)} differ)")
    return problems


def import_archive(
    path: str | os.PathLike[str], *, storage: Storage | None = None
) -> ArchiveCounts:
    """Import the archive at ``path``; return how many nodes, links, logs and groups it added.

    Raises:
        ArchiveError: for a damaged or invalid archive, or one whose nodes or groups conflict
            with the database; nothing is imported then.
    """
    content = read_archive(Path(path))
    if storage is None:
        sync_open_backend()
        storage = read_storage()
    with storage.write_engine.begin() as connection:
        counts = _import(connection, content)
    log.info("archive.import", path=str(path), **dataclasses.asdict(counts))
    return counts


def _import(connection: Connection, content: ArchiveContent) -> ArchiveCounts:
    existing = _existing_nodes(connection, (node["uuid"] for node in content.nodes))
    if conflicts := _conflicts(content, existing):
        shown = "; ".join(conflicts[:5]) + (" and more" if len(conflicts) > 5 else "")
        raise ArchiveError(
            f"{content.path}: {len(conflicts)} node(s) of the archive exist in the database "
            f"with other content: {shown}. Nothing was imported"
        )
    pks = {uuid: row.id for uuid, row in existing.items()}
    new_nodes = [
        {**node, "node_hash": trusted_hash(node), "imported": True}
        for node in content.nodes
        if node["uuid"] not in pks
    ]
    for batch in _batches(new_nodes):
        result = connection.execute(sa.insert(DbNode).returning(DbNode.uuid, DbNode.id), batch)
        pks.update({row[0]: row[1] for row in result})
    links = _new_links(connection, content, pks)
    for batch in _batches(links):
        connection.execute(sa.insert(DbLink), batch)
    created = {node["uuid"] for node in new_nodes}
    logs = [
        {
            "node_id": pks[entry["node"]],
            "time": entry["time"],
            "levelname": entry["levelname"],
            "loggername": entry["loggername"],
            "message": entry["message"],
            "metadata": entry["metadata"],
        }
        for entry in content.logs
        if entry["node"] in created
    ]
    for batch in _batches(logs):
        connection.execute(sa.insert(DbLog), batch)
    groups = sum(_import_group(connection, content, group, pks) for group in content.groups)
    return ArchiveCounts(nodes=len(new_nodes), links=len(links), logs=len(logs), groups=groups)


def _new_links(
    connection: Connection, content: ArchiveContent, pks: dict[str, int]
) -> list[dict[str, Any]]:
    wanted = {
        (pks[link["input"]], pks[link["output"]], link["type"], link["label"])
        for link in content.links
    }
    present: set[tuple[int, int, str, str]] = set()
    outputs = sorted({output for _input, output, _type, _label in wanted})
    for batch in _batches(outputs):
        rows = connection.execute(
            sa.select(DbLink.input_id, DbLink.output_id, DbLink.link_type, DbLink.label).where(
                DbLink.output_id.in_(batch)
            )
        )
        present.update((row[0], row[1], row[2], row[3]) for row in rows)
    ordered = []
    for link in content.links:
        key = (pks[link["input"]], pks[link["output"]], link["type"], link["label"])
        if key not in present:
            present.add(key)
            ordered.append(
                {"input_id": key[0], "output_id": key[1], "link_type": key[2], "label": key[3]}
            )
    return ordered


def _import_group(
    connection: Connection, content: ArchiveContent, group: dict[str, Any], pks: dict[str, int]
) -> int:
    """Create or complete one group; 1 if it was created."""
    row = connection.execute(
        sa.select(DbGroup.id, DbGroup.uuid).where(
            sa.or_(
                DbGroup.uuid == group["uuid"],
                sa.and_(
                    DbGroup.label == group["label"], DbGroup.type_string == group["type_string"]
                ),
            )
        )
    ).first()
    created = 0
    if row is not None and row.uuid != group["uuid"]:
        raise ArchiveError(
            f"{content.path}: the database has another group labelled {group['label']!r} "
            f"(uuid {row.uuid}, the archive's is {group['uuid']}); rename one of them. Nothing "
            "was imported"
        )
    if row is None:
        group_id = connection.execute(
            sa.insert(DbGroup)
            .values(
                {key: group[key] for key in ("uuid", "label", "type_string", "description", "time")}
            )
            .returning(DbGroup.id)
        ).scalar_one()
        created = 1
    else:
        group_id = row.id
    present = set(
        connection.execute(
            sa.select(group_node.c.node_id).where(group_node.c.group_id == group_id)
        ).scalars()
    )
    members = [pks[uuid] for uuid in dict.fromkeys(group["nodes"]) if pks[uuid] not in present]
    for batch in _batches(members):
        connection.execute(
            sa.insert(group_node), [{"group_id": group_id, "node_id": pk} for pk in batch]
        )
    return created
