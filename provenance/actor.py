"""The provenance actor: the only writer of the provenance database.

It applies each ``Write`` in one open transaction (``provenance.write_application``, so that a
failed write undoes itself and nothing else). It commits when its mailbox is
empty and someone waits for durability, so that a burst of writes from many processes costs one
commit; writes nobody waits for are committed at the latest ``COMMIT_DELAY`` later. A durable
reply is given only after the commit, which is what lets ``run()`` promise read-your-writes; an
``applied`` reply (new pks) is given as soon as the savepoint is released.

A bad value fails only its own write, never another's commit: every record is checked against
the value rule (``provenance.values``) before anything is applied, the inserts of a write are
undone together if one fails, and the attribute updates queued for the commit run in a
savepoint of their own with a fallback to one update at a time, so that a failure is charged to
the write that queued it.
The actor catches every ``Exception`` a message causes: bad data never stops it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pykka
from pykka import ActorDeadError

from provenance.actor_messages import Flush, Reply, RuntimeBeat, Sync, Watermark, Write
from provenance.errors import DatabaseUnavailableError, StorageError
from provenance.fencing import Fence
from provenance.log import get_logger
from provenance.pending_updates import PendingUpdates, QueuedUpdate
from provenance.record_checks import describe_error
from provenance.records import (
    WriteOp,
)
from provenance.runtime_rows import Heartbeat, apply_heartbeat
from provenance.sqlite_connections import sqlite_driver
from provenance.ticker import Ticker
from provenance.wal_checkpoints import WRITER_AUTOCHECKPOINT, WalCheckpointer
from provenance.wal_durability import WalDurability
from provenance.write_application import WriteApplier, storage_failure

if TYPE_CHECKING:
    from provenance.storage import Storage, WriteConnection

log = get_logger(__name__)

#: How long writes that nobody waits for may stay uncommitted, gathering company.
COMMIT_DELAY = 0.02


class ProvenanceActor(pykka.ThreadingActor):
    """Owns the write connection of one ``Storage``."""

    #: Daemon threads let the interpreter reach atexit, where the runtime shuts down cleanly.
    use_daemon_thread = True

    def __init__(self, storage: Storage, watermark: Watermark | None = None) -> None:
        super().__init__()
        self._storage = storage
        self._watermark = watermark or Watermark()
        self._watermark.actor = self
        #: Serialises this actor's thread with callers served on theirs (``serve_now``).
        self._lock = threading.RLock()
        self._stopped = False
        #: The highest ``seq`` received, and the highest fully handled (they differ only while
        #: a message is being handled, or was taken from the mailbox and waits for the lock).
        self._received = 0
        self._handled = 0
        self._connection: WriteConnection | None = None
        self._waiting: list[tuple[Reply[Any], Any]] = []
        self._uncommitted = self._watermark.dirty = False
        self._pending_updates = PendingUpdates()
        self._applier = WriteApplier(storage.dialect)
        self._ticker: Ticker | None = None
        self._wal_checkpointer: WalCheckpointer | None = None
        # Made here, on the starter's thread: the backend may ask for durability at once.
        path = storage.sqlite_path
        self._durability = self._watermark.durability = (
            None if path is None else WalDurability(path)
        )

    def on_start(self) -> None:
        """Open the write connection (runs on the actor's thread)."""
        with self._lock:
            self._connection = self._storage.write_connection()
            self._ticker = Ticker(COMMIT_DELAY, self._tell_flush, "provenance-commit-delay")
            self._wal_checkpointer = self._start_wal_checkpoints(self._connection)

    def _start_wal_checkpoints(self, connection: WriteConnection) -> WalCheckpointer | None:
        """Move SQLite's WAL checkpoints (and their fsync) off this connection's commits."""
        path = self._storage.sqlite_path
        if path is None:
            return None
        self._leave_checkpoints_to_the_checkpointer(connection)
        return WalCheckpointer(path)

    @staticmethod
    def _leave_checkpoints_to_the_checkpointer(connection: WriteConnection) -> None:
        sqlite_driver(connection).execute(f"PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT}")

    def on_stop(self) -> None:
        """Commit what is left and close the connection (runs on the actor's thread)."""
        if self._ticker is not None:
            self._ticker.close()
        with self._lock:
            self._stopped = True
            self._commit()
            if self._connection is not None:
                self._connection.close()
            if self._wal_checkpointer is not None:
                self._wal_checkpointer.close()
            if self._durability is not None:
                self._durability.close()

    def on_failure(self, *_exc_info: object) -> None:
        """Fail every waiting caller rather than leave it hanging (runs on the actor's thread)."""
        with self._lock:
            self._stopped = True
            self._fail_waiting(
                StorageError("the provenance actor stopped after an unexpected error")
            )
            if self._connection is not None:
                self._connection.close()
            if self._wal_checkpointer is not None:
                self._wal_checkpointer.close()

    def on_receive(self, message: Any) -> None:
        """Apply one message (runs on the actor's thread)."""
        with self._lock:
            self._serve(message, commit_now=False)
            self._handled = max(self._handled, getattr(message, "seq", 0))

    def serve_now(self, message: Write | Sync, after: int) -> bool:
        """Serve ``message`` on the caller's thread (a durable write or a sync is committed at
        once), if the actor is up and has handled message ``after``, the last one anyone sent (so
        writes keep the order they were sent in); False if not, and nothing was done: send it.

        A writer that waits for its write spares two thread handoffs this way, which cost more
        than the write itself; the actor's thread and such callers take turns on one lock.
        """
        with self._lock:
            if self._stopped or self._connection is None or self._handled < after:
                return False
            durable = isinstance(message, Sync) or (message.durable and message.reply is not None)
            self._serve(message, commit_now=durable)
            return True

    def _serve(self, message: Any, *, commit_now: bool) -> None:
        """Apply one message; commit when nothing else waits in the mailbox (or ``commit_now``).

        Whatever a message causes, the actor stays up: an unexpected error fails that
        message's caller (or is logged) and the next message is served as usual.
        """
        self._received = max(self._received, getattr(message, "seq", 0))
        try:
            match message:
                case Write(ops=ops, reply=reply, durable=durable, fence=fence):
                    self._apply_write(ops, reply, durable=durable, fence=fence)
                case Sync(reply=reply):
                    self._waiting.append((reply, None))
                case Flush():
                    self._commit()
                case RuntimeBeat(heartbeat=heartbeat, reply=beat_reply):
                    self._beat(heartbeat, beat_reply)
                case _:
                    log.warning("provenance.unknown_message", message=type(message).__name__)
            if not commit_now and not self.actor_inbox.empty():
                return
            if self._waiting:
                self._commit()
            elif self._uncommitted and self._ticker is not None:
                self._ticker.arm()
        except Exception as exc:  # the actor must outlive any message
            self._recover(message, exc)

    def _recover(self, message: Any, exc: Exception) -> None:
        """After an error no path above expected: roll back what is uncommitted and say so."""
        log.error("provenance.unexpected_error", error=describe_error(exc))
        error = StorageError(
            f"the provenance actor met an unexpected error and rolled back what was not yet "
            f"committed: {describe_error(exc)}"
        )
        reply = getattr(message, "reply", None)
        if reply is not None and not reply.done():
            reply.set_exception(error)
        self._rollback(error)

    def _tell_flush(self) -> None:
        """Runs on the ticker's thread."""
        with contextlib.suppress(ActorDeadError):  # stopped meanwhile: on_stop committed
            self.actor_ref.tell(Flush())

    def _apply_write(
        self,
        ops: Sequence[WriteOp],
        reply: Reply[dict[str, int]] | None,
        *,
        durable: bool,
        fence: Fence | None = None,
    ) -> None:
        outcome = self._applier.apply(ops, fence, self._require_connection)
        if isinstance(outcome, Exception):
            if reply is not None:
                reply.set_exception(outcome)
            else:
                log.error("provenance.write_failed", error=describe_error(outcome), ops=len(ops))
            if isinstance(outcome, DatabaseUnavailableError):
                # The server or the connection failed, not this write's data: the transaction
                # is lost with it (its other writers are told), and the connection takes no
                # statement until it is rolled back. Left alone, every later write failed.
                self._rollback(outcome)
            return
        created, updates = outcome
        for pk, (uuid, attributes) in updates.items():
            self._pending_updates.add(pk, QueuedUpdate(uuid, attributes, reply))
        self._uncommitted = self._watermark.dirty = True
        if reply is None:
            return
        if durable:
            self._waiting.append((reply, created))
        else:
            reply.set_result(created)

    def _beat(self, heartbeat: Heartbeat, reply: Reply[None] | None) -> None:
        """Write a runtime's row in a transaction of its own, after committing what waits (a
        failed beat must roll back nobody's write)."""
        self._commit()
        connection = self._require_connection()
        try:
            apply_heartbeat(connection, self._storage.dialect, heartbeat)
        except Exception as exc:  # the database refused or failed: the next beat tries again
            log.warning("provenance.heartbeat_failed", error=describe_error(exc))
            try:
                connection.rollback()
            except Exception:  # a dead connection: the next message opens a new one
                self._reconnect()
            if reply is not None:
                reply.set_exception(storage_failure("a runtime heartbeat was not written", exc))
            return
        if self._wal_checkpointer is not None:  # it grew the WAL like any commit
            self._wal_checkpointer.committed()
        if reply is not None:
            reply.set_result(None)

    def _commit(self) -> None:
        connection = self._connection
        if connection is None:
            return
        self._uncommitted = False
        try:
            self._pending_updates.flush(connection, self._applier.rows)
            connection.commit()
        except Exception as exc:  # the database itself failed: nobody's data
            log.error("provenance.commit_failed", error=describe_error(exc))
            self._rollback(storage_failure("provenance commit failed and was rolled back", exc))
            return
        if self._wal_checkpointer is not None:
            self._wal_checkpointer.committed()
        if self._durability is not None:
            self._durability.committed()
        # Only now: a reader on another thread may skip its sync from here on.
        self._watermark.committed = self._received
        self._watermark.dirty = False
        waiting, self._waiting = self._waiting, []
        for reply, value in waiting:
            if not reply.done():  # a write whose queued update failed was told already
                reply.set_result(value)

    def _rollback(self, error: StorageError) -> None:
        """Undo everything uncommitted and fail whoever waits for it."""
        self._pending_updates.clear()
        self._uncommitted = self._watermark.dirty = False
        # Rolled back pks are gone: forget every cached uuid, not only this batch's.
        self._applier.forget()
        if self._connection is not None:
            try:
                self._connection.rollback()
            except Exception as exc:  # a dead connection: start a new one
                log.error("provenance.rollback_failed", error=describe_error(exc))
                self._reconnect()
        self._fail_waiting(error)

    def _reconnect(self) -> None:
        """Drop a connection that cannot even roll back; the next write opens a new one."""
        with contextlib.suppress(Exception):
            if self._connection is not None:
                self._connection.close()
        self._connection = None

    def _fail_waiting(self, error: Exception) -> None:
        waiting, self._waiting = self._waiting, []
        for reply, _value in waiting:
            if not reply.done():
                reply.set_exception(error)

    def _require_connection(self) -> WriteConnection:
        if self._connection is None:  # dropped by _reconnect after a failed rollback
            self._connection = self._storage.write_connection()
            if self._wal_checkpointer is not None:
                self._leave_checkpoints_to_the_checkpointer(self._connection)
        return self._connection
