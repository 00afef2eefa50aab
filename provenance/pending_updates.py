"""Attribute updates the provenance actor holds until its next commit.

A process node's attributes are replaced several times in its life; the updates of one node
that arrive before a commit coalesce, so that only the newest is run, in one statement for every
node. Should that statement fail, each node's newest update is tried alone, then the one before
it: only the update that cannot be stored is lost, and the write that sent it is told, never a
stranger's. Unless the database itself failed (a restart, a lost connection): then nothing can
be stored, and the whole commit fails, every writer told to try again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from provenance.actor_messages import Reply
from provenance.errors import StorageError
from provenance.log import get_logger
from provenance.outages import is_transient
from provenance.record_checks import describe_error
from provenance.row_writers import RowWriter
from provenance.timestamps import utcnow

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class QueuedUpdate:
    """An attribute update waiting for the commit, and who to tell if it cannot be stored."""

    uuid: str
    attributes: dict[str, Any]
    reply: Reply[Any] | None


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

    def flush(self, connection: Any, rows: RowWriter) -> None:
        """Run the newest update of every node, in one statement if none fails."""
        queues, self._queues = self._queues, {}
        if not queues:
            return
        now = utcnow()
        newest = [_row(pk, queue[-1], now) for pk, queue in queues.items()]
        try:
            with rows.statement_guard(connection, "provenance_updates"):
                rows.update_attributes(connection, newest)
        except Exception as exc:
            if is_transient(exc):
                raise  # not one update's fault: the commit fails as a whole
            for pk, queue in queues.items():  # find the culprit, one node at a time
                _flush_one(connection, rows, pk, queue, now)


def _row(pk: int, update: QueuedUpdate, now: dt.datetime) -> dict[str, Any]:
    return {"b_id": pk, "b_attributes": update.attributes, "b_mtime": now}


def _flush_one(
    connection: Any,
    rows: RowWriter,
    pk: int,
    queue: list[QueuedUpdate],
    now: dt.datetime,
) -> None:
    """Store the newest update of ``queue`` that can be stored; tell the writers of the others."""
    for update in reversed(queue):
        try:
            with rows.statement_guard(connection, "provenance_update"):
                rows.update_attributes(connection, [_row(pk, update, now)])
        except Exception as exc:  # charged to this update's writer alone
            if is_transient(exc):
                raise
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
