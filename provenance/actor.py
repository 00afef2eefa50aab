"""The provenance actor: the only writer of the provenance database.

It applies each ``Write`` in a savepoint of one open transaction. It commits when its mailbox is
empty and someone waits for durability, so that a burst of writes from many processes costs one
commit; writes nobody waits for are committed at the latest ``COMMIT_DELAY`` later. A durable
reply is given only after the commit, which is what lets ``run()`` promise read-your-writes; an
``applied`` reply (new pks) is given as soon as the savepoint is released.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import pykka
import sqlalchemy as sa
import structlog
from pykka import ActorDeadError
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from provenance.errors import NotExistentError, StorageError
from provenance.models import DbGroup, DbLink, DbLog, DbNode, group_node, utcnow
from provenance.records import (
    AttributeUpdate,
    GroupAddition,
    LinkRecord,
    LogRecord,
    NodeRecord,
    WriteOp,
)
from provenance.storage import Storage
from provenance.ticker import Ticker

log = structlog.get_logger(__name__)

PK_CACHE_LIMIT = 200_000
#: How long writes that nobody waits for may stay uncommitted, gathering company.
COMMIT_DELAY = 0.02


_node_columns = DbNode.__table__.c
# Built once: a statement object memoizes its cache key, which SQLAlchemy otherwise recomputes
# for every write on this hot path.
_INSERT_NODES = sa.insert(DbNode).returning(DbNode.uuid, DbNode.id)
_INSERT_LINKS = sa.insert(DbLink)
_INSERT_LOGS = sa.insert(DbLog)

_UPDATE_ATTRIBUTES = (
    sa.update(DbNode)
    .where(_node_columns.id == sa.bindparam("b_id"))
    .values(
        {
            _node_columns.attributes: sa.bindparam(
                "b_attributes", type_=_node_columns.attributes.type
            ),
            _node_columns.mtime: sa.bindparam("b_mtime", type_=_node_columns.mtime.type),
        }
    )
)


@dataclass(frozen=True, slots=True)
class Write:
    """Apply ``ops`` in order, all or nothing; reply ``{uuid: pk}`` of the new nodes.

    The reply comes once committed, or with ``durable=False`` as soon as the ops are applied
    (a later commit failure then surfaces to whoever waits on a durable write).
    """

    ops: tuple[WriteOp, ...]
    reply: Future[dict[str, int]] | None = None
    durable: bool = True


@dataclass(frozen=True, slots=True)
class _Flush:
    """Commit what waited ``COMMIT_DELAY`` for company."""


@dataclass(frozen=True, slots=True)
class Sync:
    """Reply once everything sent before this message is committed."""

    reply: Future[None]


class ProvenanceActor(pykka.ThreadingActor):
    """Owns the write connection of one ``Storage``."""

    #: Daemon threads let the interpreter reach atexit, where the runtime shuts down cleanly.
    use_daemon_thread = True

    def __init__(self, storage: Storage) -> None:
        super().__init__()
        self._storage = storage
        self._connection: Connection | None = None
        self._pk_by_uuid: dict[str, int] = {}
        self._waiting: list[tuple[Future[Any], Any]] = []
        self._uncommitted = False
        self._pending_updates: dict[int, dict[str, Any]] = {}
        self._ticker: Ticker | None = None

    def on_start(self) -> None:
        """Open the write connection (runs on the actor's thread)."""
        self._connection = self._storage.write_engine.connect()
        self._ticker = Ticker(COMMIT_DELAY, self._tell_flush, "provenance-commit-delay")

    def on_stop(self) -> None:
        """Commit what is left and close the connection (runs on the actor's thread)."""
        if self._ticker is not None:
            self._ticker.close()
        self._commit()
        if self._connection is not None:
            self._connection.close()

    def on_failure(self, *_exc_info: object) -> None:
        """Fail every waiting caller rather than leave it hanging (runs on the actor's thread)."""
        self._fail_waiting(StorageError("the provenance actor stopped after an unexpected error"))
        if self._connection is not None:
            self._connection.close()

    def on_receive(self, message: Any) -> None:
        """Apply one message; commit when nothing else waits in the mailbox."""
        match message:
            case Write(ops=ops, reply=reply, durable=durable):
                self._apply_write(ops, reply, durable=durable)
            case Sync(reply=reply):
                self._waiting.append((reply, None))
            case _Flush():
                self._commit()
            case _:
                log.warning("provenance.unknown_message", message=repr(message))
        if not self.actor_inbox.empty():
            return
        if self._waiting:
            self._commit()
        elif self._uncommitted and self._ticker is not None:
            self._ticker.arm()

    def _tell_flush(self) -> None:
        """Runs on the ticker's thread."""
        with contextlib.suppress(ActorDeadError):  # stopped meanwhile: on_stop committed
            self.actor_ref.tell(_Flush())

    def _apply_write(
        self, ops: Sequence[WriteOp], reply: Future[dict[str, int]] | None, *, durable: bool
    ) -> None:
        connection = self._require_connection()
        try:
            if all(isinstance(op, AttributeUpdate) for op in ops):
                # State changes only queue updates for the commit: nothing to roll back.
                created, updates = self._apply_ops(connection, ops)
            else:
                created, updates = self._apply_in_savepoint(connection, ops)
        except (SQLAlchemyError, NotExistentError, ValueError, TypeError) as exc:
            error = (
                exc
                if isinstance(exc, NotExistentError)
                else StorageError(f"provenance write failed and was rolled back: {exc}")
            )
            if reply is not None:
                reply.set_exception(error)
            else:
                log.error("provenance.write_failed", error=str(exc), ops=len(ops))
            return
        self._pending_updates.update(updates)
        self._uncommitted = True
        if reply is None:
            return
        if durable:
            self._waiting.append((reply, created))
        else:
            reply.set_result(created)

    def _apply_in_savepoint(
        self, connection: Connection, ops: Sequence[WriteOp]
    ) -> tuple[dict[str, int], dict[int, dict[str, Any]]]:
        """Apply ``ops`` so that a failure undoes all of them and nothing else."""
        # A raw savepoint: SQLAlchemy's nested-transaction bookkeeping costs more than the
        # statements themselves on this hot path.
        connection.exec_driver_sql("SAVEPOINT provenance_write")
        try:
            return self._apply_ops(connection, ops)
        except BaseException:
            connection.exec_driver_sql("ROLLBACK TO SAVEPOINT provenance_write")
            raise
        finally:
            connection.exec_driver_sql("RELEASE SAVEPOINT provenance_write")

    def _apply_ops(
        self, connection: Connection, ops: Sequence[WriteOp]
    ) -> tuple[dict[str, int], dict[int, dict[str, Any]]]:
        """Execute inserts now; return new pks and the attribute updates to apply at commit."""
        created: dict[str, int] = {}
        updates: dict[int, dict[str, Any]] = {}
        nodes = [op for op in ops if isinstance(op, NodeRecord)]
        if nodes:
            created = self._insert_nodes(connection, nodes)
        links = [op for op in ops if isinstance(op, LinkRecord)]
        if links:
            self._insert_links(connection, links)
        for op in ops:
            match op:
                case AttributeUpdate(uuid=uuid, attributes=attributes):
                    # Replacements of one node coalesce: only the last before a commit is run.
                    updates[self._resolve(connection, [uuid])[uuid]] = dict(attributes)
                case GroupAddition():
                    self._add_to_group(connection, op)
        logs = [op for op in ops if isinstance(op, LogRecord)]
        if logs:
            connection.execute(_INSERT_LOGS, [self._log_row(op) for op in logs])
        return created, updates

    def _flush_updates(self, connection: Connection) -> None:
        updates, self._pending_updates = self._pending_updates, {}
        if not updates:
            return
        now = utcnow()
        connection.execute(
            _UPDATE_ATTRIBUTES,
            [
                {"b_id": pk, "b_attributes": attributes, "b_mtime": now}
                for pk, attributes in updates.items()
            ],
        )

    def _insert_nodes(self, connection: Connection, nodes: Sequence[NodeRecord]) -> dict[str, int]:
        now = utcnow()
        rows = [
            {
                "uuid": node.uuid,
                "node_type": node.node_type,
                "label": node.label,
                "description": node.description,
                "attributes": dict(node.attributes),
                "ctime": node.ctime or now,
                "mtime": now,
            }
            for node in nodes
        ]
        result = connection.execute(_INSERT_NODES, rows)
        created = {row[0]: row[1] for row in result}
        self._remember(created)
        return created

    def _insert_links(self, connection: Connection, links: Sequence[LinkRecord]) -> None:
        pks = self._resolve(
            connection, {link.source_uuid for link in links} | {link.target_uuid for link in links}
        )
        connection.execute(
            _INSERT_LINKS,
            [
                {
                    "input_id": pks[link.source_uuid],
                    "output_id": pks[link.target_uuid],
                    "link_type": link.link_type.value,
                    "label": link.label,
                }
                for link in links
            ],
        )

    def _add_to_group(self, connection: Connection, op: GroupAddition) -> None:
        group_id = connection.execute(
            sa.select(DbGroup.id).where(
                DbGroup.label == op.label, DbGroup.type_string == op.type_string
            )
        ).scalar_one_or_none()
        if group_id is None:
            group_id = connection.execute(
                sa.insert(DbGroup)
                .values(uuid=op.group_uuid, label=op.label, type_string=op.type_string)
                .returning(DbGroup.id)
            ).scalar_one()
        if not op.node_uuids:
            return
        pks = self._resolve(connection, op.node_uuids)
        present = set(
            connection.execute(
                sa.select(group_node.c.node_id).where(
                    group_node.c.group_id == group_id, group_node.c.node_id.in_(pks.values())
                )
            ).scalars()
        )
        missing = [
            pk for pk in dict.fromkeys(pks[uuid] for uuid in op.node_uuids) if pk not in present
        ]
        if missing:
            connection.execute(
                sa.insert(group_node), [{"group_id": group_id, "node_id": pk} for pk in missing]
            )

    @staticmethod
    def _log_row(op: LogRecord) -> dict[str, Any]:
        return {
            "node_id": op.node_pk,
            "time": op.time if op.time.tzinfo else op.time.replace(tzinfo=dt.UTC),
            "levelname": op.levelname,
            "loggername": op.loggername,
            "message": op.message,
            "metadata": dict(op.metadata),
        }

    def _resolve(self, connection: Connection, uuids: Iterable[str]) -> dict[str, int]:
        wanted = set(uuids)
        found = {uuid: self._pk_by_uuid[uuid] for uuid in wanted if uuid in self._pk_by_uuid}
        unknown = wanted - found.keys()
        if unknown:
            rows = connection.execute(
                sa.select(DbNode.uuid, DbNode.id).where(DbNode.uuid.in_(unknown))
            )
            loaded: dict[str, int] = {row[0]: row[1] for row in rows}
            self._remember(loaded)
            found.update(loaded)
            if missing := unknown - loaded.keys():
                raise NotExistentError(
                    f"nodes {sorted(missing)} are not stored; store them before linking to them"
                )
        return found

    def _remember(self, pks: dict[str, int]) -> None:
        if len(self._pk_by_uuid) > PK_CACHE_LIMIT:
            self._pk_by_uuid.clear()
        self._pk_by_uuid.update(pks)

    def _commit(self) -> None:
        connection = self._connection
        if connection is None:
            return
        self._uncommitted = False
        try:
            self._flush_updates(connection)
            connection.commit()
        except SQLAlchemyError as exc:
            connection.rollback()
            # Rolled back pks are gone: forget every cached uuid, not only this batch's.
            self._pk_by_uuid.clear()
            self._fail_waiting(StorageError(f"provenance commit failed and was rolled back: {exc}"))
            log.error("provenance.commit_failed", error=str(exc))
            return
        waiting, self._waiting = self._waiting, []
        for reply, value in waiting:
            reply.set_result(value)

    def _fail_waiting(self, error: Exception) -> None:
        waiting, self._waiting = self._waiting, []
        for reply, _value in waiting:
            if not reply.done():
                reply.set_exception(error)

    def _require_connection(self) -> Connection:
        if self._connection is None:  # pragma: no cover - on_start always runs first
            raise StorageError("the provenance actor has no connection")
        return self._connection
