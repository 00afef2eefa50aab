"""The shared database's queue as people look at it: the checkpoints waiting for a worker, the
ones that failed, and putting a failed one back.

These reads never claim anything (a plain ``SELECT``), the way ``daemon status`` reads the
home's ``running/`` folder, and nothing here unpickles: whoever shows a row describes its
envelope with the key. ``requeue`` is the one write: it turns a failed row back into a running,
unowned one under a row lock, after the caller's checks passed, and wakes the workers in the
same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg

from persistence.errors import CheckpointMissingError, PersistenceError
from persistence.messages import WAKE
from persistence.pg_claim_sql import claimable
from persistence.pg_connection import channel_of, conninfo_of
from persistence.pg_notify import send

T = TypeVar("T")

_COLUMNS = "c.pid, c.class_path, c.status, c.reason, c.owner, c.data, c.key_id, c.updated"


class RequeueRefusedError(PersistenceError):
    """A row of the queue cannot go back to running (the message says why)."""


@dataclass(frozen=True, slots=True)
class QueuedCheckpoint:
    """One row of ``wa_checkpoint`` as stored: nothing in ``data`` has been verified."""

    pid: int
    class_path: str
    status: str
    reason: str | None
    owner: str | None
    data: bytes | None
    key_id: str
    updated: dt.datetime

    @property
    def size(self) -> int:
        """Bytes of the stored checkpoint (0 for a submission still being written)."""
        return len(self.data) if self.data is not None else 0


def waiting(url: str, limit: int | None = None) -> list[QueuedCheckpoint]:
    """Running checkpoints that no live worker holds, by pid: what the next claims take."""
    return _select(
        url,
        f"WHERE c.status = 'running' AND c.data IS NOT NULL AND {claimable('c')} "
        "ORDER BY c.pid LIMIT %(limit)s",
        {"limit": limit},
    )


def failed(url: str) -> list[QueuedCheckpoint]:
    """Checkpoints retired as failed (refused on load, or of a process that excepted), by pid."""
    return _select(url, "WHERE c.status = 'failed' ORDER BY c.pid", {})


def checkpoint_row(url: str, pid: int) -> QueuedCheckpoint | None:
    """The row of process ``pid``, whatever its status; None if it has none."""
    rows = _select(url, "WHERE c.pid = %(pid)s", {"pid": pid})
    return rows[0] if rows else None


def requeue(url: str, pid: int, check: Callable[[QueuedCheckpoint], T]) -> T:
    """Put process ``pid``'s failed row back in the queue if ``check(row)`` passes (it raises
    otherwise); wake the workers; return what ``check`` returned.

    The row stays locked from the read to the commit, so that two requeues of one process, or
    a requeue racing a worker, cannot both act on it.

    Raises:
        CheckpointMissingError: process ``pid`` has no row.
        RequeueRefusedError: the row is not a failed one (running: it is queued already).
    """
    with psycopg.connect(conninfo_of(url)) as connection:
        found = connection.execute(
            f"SELECT {_COLUMNS} FROM wa_checkpoint AS c WHERE c.pid = %(pid)s FOR UPDATE",
            {"pid": pid},
        ).fetchone()
        if found is None:
            raise CheckpointMissingError(f"process {pid} has no checkpoint in the database")
        row = _row(found)
        if row.status != "failed":
            raise RequeueRefusedError(
                f"process {pid}'s checkpoint is {row.status}, not failed: "
                + ("it is queued already" if row.status == "running" else "nothing to requeue")
            )
        result = check(row)
        connection.execute(
            "UPDATE wa_checkpoint SET status = 'running', reason = NULL, owner = NULL, "
            "updated = now() WHERE pid = %(pid)s",
            {"pid": pid},
        )
        send(connection, channel_of(url), WAKE)
    return result


def _select(url: str, where: str, params: dict[str, Any]) -> list[QueuedCheckpoint]:
    with psycopg.connect(conninfo_of(url), autocommit=True) as connection:
        rows = connection.execute(
            f"SELECT {_COLUMNS} FROM wa_checkpoint AS c {where}", params
        ).fetchall()
    return [_row(row) for row in rows]


def _row(row: tuple[Any, ...]) -> QueuedCheckpoint:
    pid, class_path, status, reason, owner, data, key_id, updated = row
    return QueuedCheckpoint(
        int(pid),
        class_path,
        status,
        reason,
        owner,
        bytes(data) if data is not None else None,
        key_id,
        updated,
    )
