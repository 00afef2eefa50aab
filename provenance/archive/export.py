"""Writing an archive: the chosen nodes and groups, closed over the provenance that explains them.

What goes in, besides the nodes and group members asked for:

- a process's inputs and outputs (its INPUT, CREATE and RETURN links), and the process that
  created a data node (its incoming CREATE link): a result never travels without its origin;
- with ``include_calls`` (default), the processes a process called, to the bottom;
- with ``include_callers``, the processes that called it, to the top.

The closure is computed a generation at a time with set-based queries, then every link between
two exported nodes, every log of an exported node and each chosen group are written. The file is
written to a temporary name beside the target and renamed: a failed export leaves no archive.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from provenance.archive.format import (
    CHUNK,
    FORMAT_NAME,
    FORMAT_VERSION,
    GROUPS,
    LINKS,
    LOGS,
    METADATA,
    NODES,
    iso,
)
from provenance.archive.selection import NodeChoice, find_groups, node_pks
from provenance.errors import ArchiveError
from provenance.log import get_logger
from provenance.models import DbGroup, DbLink, DbLog, DbNode, group_node
from provenance.reading import read_storage, sync_open_backend
from provenance.records import LinkType
from provenance.storage import Storage

log = get_logger(__name__)

Progress = Callable[[str, int], None]


@dataclass(frozen=True, slots=True)
class ArchiveCounts:
    """How many records of each kind an archive holds (or an import added)."""

    nodes: int
    links: int
    logs: int
    groups: int


def _chunks(values: Iterable[int]) -> Iterator[list[int]]:
    batch: list[int] = []
    for value in values:
        batch.append(value)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _neighbours(session: Session, ids: set[int], *, outgoing: bool, types: set[str]) -> set[int]:
    near, far = (
        (DbLink.input_id, DbLink.output_id) if outgoing else (DbLink.output_id, DbLink.input_id)
    )
    found: set[int] = set()
    for batch in _chunks(ids):
        query = sa.select(far).where(near.in_(batch), DbLink.link_type.in_(types))
        found.update(session.execute(query).scalars())
    return found


def _closure(
    session: Session, start: set[int], *, include_calls: bool, include_callers: bool
) -> set[int]:
    """Every node the export takes, starting from ``start`` (see the module docstring)."""
    chosen = set(start)
    frontier = set(start)
    forward = {LinkType.CREATE.value, LinkType.RETURN.value}
    if include_calls:
        forward.add(LinkType.CALL.value)
    backward = {LinkType.INPUT.value, LinkType.CREATE.value}
    if include_callers:
        backward.add(LinkType.CALL.value)
    while frontier:
        reached = _neighbours(session, frontier, outgoing=True, types=forward)
        reached |= _neighbours(session, frontier, outgoing=False, types=backward)
        frontier = reached - chosen
        chosen |= frontier
    return chosen


def _rows(session: Session, statement: Any, ids: set[int], column: Any) -> Iterator[Any]:
    for batch in _chunks(sorted(ids)):
        yield from session.execute(statement.where(column.in_(batch)))


def _node_lines(session: Session, ids: set[int], uuids: dict[int, str]) -> Iterator[dict[str, Any]]:
    for row in _rows(session, sa.select(DbNode).order_by(DbNode.id), ids, DbNode.id):
        node = row[0]
        uuids[node.id] = node.uuid
        yield {
            "uuid": node.uuid,
            "node_type": node.node_type,
            "label": node.label,
            "description": node.description,
            "attributes": node.attributes,
            "ctime": iso(node.ctime),
            "mtime": iso(node.mtime),
            "hash": node.node_hash,
        }


def _link_lines(session: Session, ids: set[int], uuids: dict[int, str]) -> Iterator[dict[str, Any]]:
    statement = sa.select(DbLink).order_by(DbLink.id)
    for row in _rows(session, statement, ids, DbLink.output_id):
        link = row[0]
        if link.input_id in ids:
            yield {
                "input": uuids[link.input_id],
                "output": uuids[link.output_id],
                "type": link.link_type,
                "label": link.label,
            }


def _log_lines(session: Session, ids: set[int], uuids: dict[int, str]) -> Iterator[dict[str, Any]]:
    for row in _rows(session, sa.select(DbLog).order_by(DbLog.id), ids, DbLog.node_id):
        entry = row[0]
        yield {
            "node": uuids[entry.node_id],
            "time": iso(entry.time),
            "levelname": entry.levelname,
            "loggername": entry.loggername,
            "message": entry.message,
            "metadata": entry.meta,
        }


def _group_lines(
    session: Session, groups: list[DbGroup], uuids: dict[int, str]
) -> Iterator[dict[str, Any]]:
    for group in groups:
        members = session.execute(
            sa.select(group_node.c.node_id)
            .where(group_node.c.group_id == group.id)
            .order_by(group_node.c.node_id)
        ).scalars()
        yield {
            "uuid": group.uuid,
            "label": group.label,
            "type_string": group.type_string,
            "description": group.description,
            "time": iso(group.time),
            "nodes": [uuids[pk] for pk in members],
        }


class _MemberWriter:
    """Writes JSON lines into one zip member, counting them and hashing what it wrote."""

    def __init__(self, archive: zipfile.ZipFile, name: str) -> None:
        self._stream = archive.open(name, "w", force_zip64=True)
        self.digest = hashlib.sha256()
        self.count = 0

    def write_all(
        self, records: Iterable[dict[str, Any]], progress: Progress | None, what: str
    ) -> None:
        for record in records:
            line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
            self._stream.write(line)
            self.digest.update(line)
            self.count += 1
            if progress is not None and self.count % 1000 == 0:
                progress(what, self.count)
        self._stream.close()


def check_target(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path, if an archive may be written there.

    Raises:
        FileExistsError: if ``path`` exists (an archive is never overwritten).
        FileNotFoundError: if its folder does not exist.
    """
    target = Path(path)
    if target.exists():
        raise FileExistsError(f"{target} exists; choose another name or remove it first")
    if not target.parent.is_dir():
        raise FileNotFoundError(f"{target.parent} is not a folder; cannot write {target.name}")
    return target


def create_archive(
    path: str | os.PathLike[str],
    nodes: NodeChoice | Iterable[NodeChoice] = (),
    groups: str | Iterable[str] = (),
    *,
    include_calls: bool = True,
    include_callers: bool = False,
    storage: Storage | None = None,
    progress: Progress | None = None,
) -> ArchiveCounts:
    """Write the nodes and groups to a new archive at ``path``.

    ``nodes`` are pks, uuids, uuid prefixes or stored nodes (as ``load_node`` takes them), or
    one of them; ``groups`` are labels, a str being one label.

    Raises:
        NotExistentError: for a node or group label that is not in the database.
        AmbiguousIdentifierError: for a uuid prefix that names several nodes.
        ArchiveError: if nothing is chosen, or a node is not stored.
        TypeError, ValueError: for something that is not a node identifier or a label.
        FileExistsError: if ``path`` exists (an archive is never overwritten).
        FileNotFoundError: if the folder of ``path`` does not exist.

    Nothing is written when it raises.
    """
    target = check_target(path)
    if storage is None:
        sync_open_backend()
        storage = read_storage()
    with storage.read_session() as session:
        chosen_groups = find_groups(session, groups)
        start = node_pks(session, nodes)
        if not start and not chosen_groups:
            raise ArchiveError(
                "nothing to export: give nodes or groups (an archive is never empty)"
            )
        for group in chosen_groups:
            start.update(
                session.execute(
                    sa.select(group_node.c.node_id).where(group_node.c.group_id == group.id)
                ).scalars()
            )
        ids = _closure(session, start, include_calls=include_calls, include_callers=include_callers)
        log.info("archive.export", path=str(target), nodes=len(ids), groups=len(chosen_groups))
        temporary = target.with_name(f".{target.name}.partial")
        try:
            counts = _write(temporary, session, ids, chosen_groups, progress)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
    return counts


def _write(
    temporary: Path,
    session: Session,
    ids: set[int],
    groups: list[DbGroup],
    progress: Progress | None,
) -> ArchiveCounts:
    uuids: dict[int, str] = {}
    digests: dict[str, str] = {}
    counts: dict[str, int] = {}
    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        # Generators: the node lines fill ``uuids`` before the later members read it.
        members: list[tuple[str, str, Iterator[dict[str, Any]]]] = [
            (NODES, "nodes", _node_lines(session, ids, uuids)),
            (LINKS, "links", _link_lines(session, ids, uuids)),
            (LOGS, "logs", _log_lines(session, ids, uuids)),
            (GROUPS, "groups", _group_lines(session, groups, uuids)),
        ]
        for name, what, records in members:
            writer = _MemberWriter(archive, name)
            writer.write_all(records, progress, what)
            digests[name] = writer.digest.hexdigest()
            counts[what] = writer.count
        metadata = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "created": iso(dt.datetime.now(dt.UTC)),
            "workactors": _version(),
            "counts": counts,
            "sha256": digests,
        }
        archive.writestr(METADATA, json.dumps(metadata, indent=2))
    return ArchiveCounts(**counts)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("workactors")
    except PackageNotFoundError:  # pragma: no cover - run from a checkout without install
        return "unknown"
