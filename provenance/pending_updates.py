"""Attribute updates the provenance actor holds until its next commit.

A process node's attributes are replaced several times in its life; the updates of one node
that arrive before a commit coalesce, so that only the newest is run, in one statement for every
node. Should that statement fail, each node's newest update is tried alone, then the one before
it: only the update that cannot be stored is lost, and the write that sent it is told, never a
stranger's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from provenance.errors import StorageError
from provenance.log import get_logger
from provenance.models import DbNode, utcnow
from provenance.record_checks import describe_error

log = get_logger(__name__)

_node_columns = DbNode.__table__.c
# Built once: a statement object memoizes its cache key, which SQLAlchemy otherwise recomputes
# for every write on this hot path.
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


@contextmanager
def savepoint(connection: Connection, name: str) -> Iterator[None]:
    """Undo what the block did, and only that, if it raises.

    A raw savepoint: SQLAlchemy's nested-transaction bookkeeping costs more than the statements
    themselves on this hot path.
    """
    connection.exec_driver_sql(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {name}")
        raise
    finally:
        connection.exec_driver_sql(f"RELEASE SAVEPOINT {name}")


def _statement_guard(connection: Connection, name: str) -> AbstractContextManager[None]:
    """What keeps a failed update from spoiling the transaction.

    PostgreSQL aborts the whole transaction on a failed statement, so the updates run in a
    savepoint there. SQLite rolls back only the failed statement; updates replace whole
    attribute sets, so running one again in the fallback is harmless, and the two statements a
    savepoint costs are saved on every commit.
    """
    if connection.dialect.name == "sqlite":
        return nullcontext()
    return savepoint(connection, name)


@dataclass(frozen=True, slots=True)
class QueuedUpdate:
    """An attribute update waiting for the commit, and who to tell if it cannot be stored."""

    uuid: str
    attributes: dict[str, Any]
    reply: Future[Any] | None


class PendingUpdates:
    """The updates queued since the last commit, per node pk, oldest first."""

    def __init__(self) -> None:
        self._queues: dict[int, list[QueuedUpdate]] = {}

    def add(self, pk: int, update: QueuedUpdate) -> None:
        """Queue ``update`` of node ``pk``."""
        self._queues.setdefault(pk, []).append(update)

    def clear(self) -> None:
        """Forget every queued update (the transaction was rolled back)."""
        self._queues.clear()

    def flush(self, connection: Connection) -> None:
        """Run the newest update of every node, in one statement if none fails."""
        queues, self._queues = self._queues, {}
        if not queues:
            return
        now = utcnow()
        rows = [_row(pk, queue[-1], now) for pk, queue in queues.items()]
        try:
            with _statement_guard(connection, "provenance_updates"):
                connection.execute(_UPDATE_ATTRIBUTES, rows)
        except Exception:  # find the culprit, one node at a time
            for pk, queue in queues.items():
                _flush_one(connection, pk, queue, now)


def _row(pk: int, update: QueuedUpdate, now: dt.datetime) -> dict[str, Any]:
    return {"b_id": pk, "b_attributes": update.attributes, "b_mtime": now}


def _flush_one(
    connection: Connection, pk: int, queue: list[QueuedUpdate], now: dt.datetime
) -> None:
    """Store the newest update of ``queue`` that can be stored; tell the writers of the others."""
    for update in reversed(queue):
        try:
            with _statement_guard(connection, "provenance_update"):
                connection.execute(_UPDATE_ATTRIBUTES, [_row(pk, update, now)])
        except Exception as exc:  # charged to this update's writer alone
            _fail(update, pk, exc)
        else:
            return


def _fail(update: QueuedUpdate, pk: int, exc: Exception) -> None:
    error = StorageError(
        f"the attribute update of node {update.uuid} (pk {pk}) could not be stored and was "
        f"rolled back: {describe_error(exc)}"
    )
    if update.reply is not None and not update.reply.done():
        update.reply.set_exception(error)
    else:
        log.error("provenance.update_failed", node=update.uuid, pk=pk, error=str(error))
