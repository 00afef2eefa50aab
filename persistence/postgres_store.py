"""``PostgresStore``: checkpoints, claims and intents in a PostgreSQL database many machines share.

One row of ``wa_checkpoint`` per durable process holds its signed checkpoint (the envelope of
``persistence.codec``, the same bytes a file would hold) and its claim: ``owner`` (one store,
that is one worker, on any machine) and ``epoch``, which every new claim increases. Each owner
has one row in ``wa_worker`` whose ``lease_expires`` (database time) covers all its claims. The
queue is the set of running rows nobody holds or whose owner's lease ran out:

- *claiming* (``load_all_processes``, ``take_over``, ``hold``) sets the owner and
  ``epoch + 1`` in one statement over rows picked with ``FOR UPDATE SKIP LOCKED``, so racing
  workers never claim the same row and never wait for each other;
- a ``LeaseKeeper`` thread renews this store's lease (one row of ``wa_worker``) every third of
  the lease; a worker that is killed, stopped or cut off stops renewing, and its processes
  become claimable when the lease runs out. Renewing touches no checkpoint row, so it never
  waits for the provenance transactions that hold a claim's row locked (see ``ClaimFence``),
  and every statement here locks at most one checkpoint row or skips locked ones: lock waits
  between workers and provenance writers can never form a cycle;
- every write made under a claim (a checkpoint, a retirement, a release) names the owner and
  epoch it was claimed with (``WHERE owner = me AND epoch = e``): once another worker claimed
  the process, the write matches no row and raises ``LeaseLostError``; the process is dropped
  here. ``fence(pid)`` gives the same check to the provenance writes (``ClaimFence``).

A row is verified before anything in it is unpickled: the id of the key that signed it first
(a row signed on a machine with another key is refused with a message saying the machines'
keys differ), then its HMAC, then its envelope's pid, then its class path (``CheckpointCodec``).
"""

from __future__ import annotations

import hmac
import os
import pickle
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool
from sqlalchemy.engine import Connection

from persistence import messages
from persistence.codec import Checkpoint, CheckpointCodec
from persistence.errors import (
    CheckpointCorruptError,
    CheckpointError,
    CheckpointKeyMismatchError,
    CheckpointMissingError,
    CheckpointWriteError,
    LeaseLostError,
    LockedError,
    LockTimeoutError,
    MessageError,
)
from persistence.leases import LeaseKeeper
from persistence.messages import Intent
from persistence.pg_connection import open_pool, retrying
from persistence.restore import restore_process, terminal_state
from persistence.store import UnreadableHook, outcome_of, save_each
from provenance.errors import ProvenanceError
from provenance.log import get_logger
from provenance.process_state import ProcessState

log = get_logger(__name__)

#: Seconds a claim lasts unless renewed: a dead worker's processes are taken over after this.
DEFAULT_LEASE = 5.0
#: How long ``hold`` and a write wait for another holder, between two looks at its row.
WAIT_PAUSE = 0.05
#: The most rows one adoption claims: the rest stay for other workers (or the next adoption).
DEFAULT_CLAIM_BATCH = 64

_RUNNING, _FINISHED, _FAILED = "running", "finished", "failed"

_LEASE = "now() + make_interval(secs => %(lease)s)"

#: A checkpoint written under this store's claim: it changes no row once the claim is lost.
_SAVE_FENCED = (
    "UPDATE wa_checkpoint SET class_path = %(class_path)s, data = %(data)s, "
    "key_id = %(key_id)s, status = %(status)s, reason = %(reason)s, "
    "owner = CASE WHEN %(keep)s THEN owner END, updated = now() "
    "WHERE pid = %(pid)s AND owner = %(owner)s AND epoch = %(epoch)s"
)


def _claimable(row: str) -> str:
    """SQL: the checkpoint ``row`` has no owner, or its owner's lease ran out."""
    return (
        f"({row}.owner IS NULL OR NOT EXISTS (SELECT 1 FROM wa_worker AS w "
        f"WHERE w.id = {row}.owner AND w.lease_expires > now()))"
    )


#: The public name of ``_claimable``, for readers of the queue (``persistence.pg_queue``).
claimable = _claimable


def key_id_of(key: bytes) -> str:
    """A name of ``key`` that reveals nothing of it, recorded beside every row it signs."""
    return hmac.digest(key, b"workactors checkpoint key id", "sha256")[:8].hex()


class ClaimFence:
    """The claim a provenance write for ``pid`` is made under (``provenance.fencing.Fence``)."""

    def __init__(self, pid: int, owner: str, epoch: int) -> None:
        self.pid, self.owner, self.epoch = pid, owner, epoch

    def __repr__(self) -> str:
        return f"ClaimFence(pid={self.pid}, epoch={self.epoch})"

    def check(self, connection: Connection) -> None:
        """Lock the claim's row (``FOR SHARE``) until the write's transaction ends.

        Raises:
            LeaseLostError: if another worker claimed the process since.
        """
        found = connection.exec_driver_sql(
            "SELECT 1 FROM wa_checkpoint WHERE pid = %(pid)s AND owner = %(owner)s "
            "AND epoch = %(epoch)s FOR SHARE",
            {"pid": self.pid, "owner": self.owner, "epoch": self.epoch},
        ).first()
        if found is None:
            raise _lost(self.pid, self.epoch, "its provenance")


def _lost(pid: int, epoch: int, what: str) -> LeaseLostError:
    return LeaseLostError(
        f"process {pid}: this worker's claim on it (epoch {epoch}) has ended, its lease ran out "
        f"and another worker took it over; {what} was not written. This worker drops the "
        "process; the other one goes on from its last checkpoint"
    )


class PostgresStore:
    """A ``CheckpointStore`` in a PostgreSQL database; see the module docstring.

    Args:
        url: the database (the provenance database's URL).
        key: the checkpoint signing key, shared by every machine on the database.
        lease: seconds a claim lasts unless renewed.
        lock_timeout: seconds ``hold`` and writes wait for another holder's claim to end.
        claim_batch: the most checkpoints one ``load_all_processes`` claims.
        worker: ``(host, os pid, home)`` to list this store as a worker in ``wa_worker``
            while it holds claims (daemon workers); None for a submitter.
        on_unreadable: told about checkpoints refused on load.
        on_lease_lost: told (on the lease keeper's thread) about each claim found lost.
    """

    def __init__(
        self,
        url: str,
        key: bytes,
        *,
        lease: float = DEFAULT_LEASE,
        lock_timeout: float = 5.0,
        claim_batch: int = DEFAULT_CLAIM_BATCH,
        worker: tuple[str, int, str] | None = None,
        on_unreadable: UnreadableHook | None = None,
        on_lease_lost: Callable[[int], None] | None = None,
        pickle_protocol: int = pickle.HIGHEST_PROTOCOL,
    ) -> None:
        self.codec = CheckpointCodec(key)
        self.key_id = key_id_of(key)
        self.lease = lease
        self.lock_timeout = lock_timeout
        self.claim_batch = claim_batch
        self.on_unreadable = on_unreadable
        self.on_lease_lost = on_lease_lost
        self.pickle_protocol = pickle_protocol
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self.worker = worker
        self._pool: ConnectionPool = open_pool(url, name=f"workactors-store-{self.owner}")
        self._mutex = threading.Lock()
        #: pid -> epoch of every claim this store holds.
        self._held: dict[int, int] = {}
        self._keeper = LeaseKeeper(self)
        self._registered = False
        self._closed = False
        #: pid -> epoch of claims whose release failed, to be released when the server is back.
        self._unreleased: dict[int, int] = {}
        if worker is not None:  # listed in wa_worker from the start, holding or not
            self._register()

    def __repr__(self) -> str:
        return f"<PostgresStore owner={self.owner!r} held={len(self._held)}>"

    def __getstate__(self) -> Any:
        raise TypeError("a PostgresStore holds connections and a key and is not pickled")

    @property
    def held_pids(self) -> frozenset[int]:
        """The pids this store holds a claim on."""
        with self._mutex:
            return frozenset(self._held)

    def held_claims(self) -> dict[int, int]:
        """pid -> epoch of every claim this store holds (a copy)."""
        with self._mutex:
            return dict(self._held)

    def epoch_of(self, pid: int) -> int | None:
        """The epoch of this store's claim on ``pid``, None if it holds none."""
        with self._mutex:
            return self._held.get(pid)

    def fence(self, pid: int) -> ClaimFence | None:
        """The fence of this store's claim on ``pid`` for provenance writes; None if unheld."""
        epoch = self.epoch_of(pid)
        return None if epoch is None else ClaimFence(pid, self.owner, epoch)

    # Saving and retiring.

    def save_states(
        self, items: Sequence[tuple[int, str, Mapping[str, Any]]]
    ) -> list[str | Exception]:
        """``save_state`` of several processes: the checkpoints of the processes this store
        holds are written in one transaction (one round trip, in pipeline mode), each fenced
        by its own claim, so a claim lost since fails its own item only; the others (a write
        by a non-holder) one by one. An item whose outcome is a path is committed."""
        if len(items) <= 1:
            return save_each(self, items)
        outcomes: list[str | Exception] = [""] * len(items)
        fenced: list[tuple[int, dict[str, Any]]] = []
        unheld: list[int] = []
        for index, (pid, class_path, state) in enumerate(items):
            try:
                params = self._row(pid, class_path, state)
            except Exception as exc:  # not picklable: this item fails alone
                outcomes[index] = exc
                continue
            epoch = self.epoch_of(pid)
            if epoch is None:
                unheld.append(index)
            else:
                fenced.append((index, {**params, "epoch": epoch}))
        if fenced:
            written: list[bool | Exception]
            try:
                written = list(self._update_fenced([params for _index, params in fenced]))
            except CheckpointWriteError as exc:
                written = [exc] * len(fenced)
            for (index, params), done in zip(fenced, written, strict=True):
                outcomes[index] = (
                    done
                    if isinstance(done, Exception)
                    else outcome_of(partial(self._saved, params, written=done))
                )
        for index in unheld:
            outcomes[index] = outcome_of(partial(self.save_state, *items[index]))
        return outcomes

    def save_state(self, pid: int, class_path: str, state: Mapping[str, Any]) -> str:
        """Write ``pid``'s checkpoint, fenced by this store's claim if it holds one; a
        terminal state retires it and ends the claim.

        Raises:
            CheckpointEncodeError: the state cannot be pickled; the old checkpoint stays.
            LeaseLostError: this store's claim on ``pid`` ended; nothing was written.
            LockTimeoutError: another worker holds ``pid`` (for a write by a non-holder).
            CheckpointWriteError: the database could not be reached.
        """
        params = self._row(pid, class_path, state)
        epoch = self.epoch_of(pid)
        if epoch is not None:
            params["epoch"] = epoch
            return self._saved(params, written=self._execute("save", _SAVE_FENCED, params) > 0)
        sql = (
            "INSERT INTO wa_checkpoint AS c (pid, class_path, data, key_id, status, reason, "
            "owner, epoch, updated) VALUES (%(pid)s, %(class_path)s, "
            "%(data)s, %(key_id)s, %(status)s, %(reason)s, NULL, 0, now()) "
            "ON CONFLICT (pid) DO UPDATE SET class_path = EXCLUDED.class_path, "
            "data = EXCLUDED.data, key_id = EXCLUDED.key_id, status = EXCLUDED.status, "
            "reason = EXCLUDED.reason, updated = now() "
            f"WHERE {_claimable('c')}"
        )
        self._wait_for("write", pid, lambda: self._execute("save", sql, params) > 0)
        return self._saved(params, written=True)

    def _row(self, pid: int, class_path: str, state: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters of the statements that write ``pid``'s checkpoint (not its epoch).

        Raises:
            CheckpointEncodeError: the state cannot be pickled.
        """
        data = self.codec.encode(Checkpoint(pid, class_path, state), protocol=self.pickle_protocol)
        end = terminal_state(state)
        status = _RUNNING if end is None else _FAILED if end is ProcessState.EXCEPTED else _FINISHED
        reason = f"process {pid} excepted; its traceback is on its process node"
        return {
            "pid": pid,
            "class_path": class_path,
            "data": data,
            "key_id": self.key_id,
            "status": status,
            "reason": reason if status == _FAILED else None,
            "owner": self.owner,
            "keep": status == _RUNNING,
            "lease": self.lease,
        }

    def _saved(self, params: Mapping[str, Any], *, written: bool) -> str:
        """After a write with ``params``: where the checkpoint is, the claim ended if it was
        terminal (or lost).

        Raises:
            LeaseLostError: if a fenced write changed no row: the claim was lost.
        """
        pid, status, epoch = params["pid"], params["status"], params.get("epoch")
        if not written:
            assert epoch is not None  # only a fenced write can miss
            self._forget(pid, epoch)
            raise _lost(pid, epoch, "its checkpoint")
        if status != _RUNNING:
            self._forget(pid, epoch)
            log.info("persistence.checkpoint_retired", pid=pid, destination=f"postgresql:{status}")
        return self._where(pid, status)

    def _update_fenced(self, rows: Sequence[Mapping[str, Any]]) -> list[bool]:
        """Run the fenced update of each of ``rows`` in one transaction (pipelined); whether
        each changed its row."""

        def run() -> list[bool]:
            with self._pool.connection() as connection, connection.cursor() as cursor:
                cursor.executemany(_SAVE_FENCED + " RETURNING pid", rows, returning=True)
                changed = []
                while True:
                    changed.append(cursor.fetchone() is not None)
                    if not cursor.nextset():
                        return changed

        result: list[bool] = self._run("save", run)
        return result

    def mark_finished(self, pid: int) -> str:
        """Retire ``pid``'s running checkpoint as finished and end the claim."""
        return self._retire(pid, _FINISHED, None)

    def mark_failed(self, pid: int, reason: str) -> str:
        """Retire ``pid``'s running checkpoint as failed, with ``reason``, and end the claim."""
        return self._retire(pid, _FAILED, reason)

    # Holding.

    def hold(self, pid: int) -> None:
        """Claim ``pid``, launched here, waiting up to ``lock_timeout`` for another holder.

        Raises:
            LockedError: if this store holds it already.
            LockTimeoutError: if another worker still holds it after ``lock_timeout``.
        """
        self._register()
        if self.epoch_of(pid) is not None:
            raise LockedError(f"process {pid} is already held by this store")
        sql = (
            "INSERT INTO wa_checkpoint AS c (pid, class_path, data, key_id, status, owner, epoch, "
            "updated) VALUES (%(pid)s, '', NULL, '', 'running', %(owner)s, 1, now()) "
            "ON CONFLICT (pid) DO UPDATE SET owner = %(owner)s, epoch = c.epoch + 1 "
            f"WHERE {_claimable('c')} RETURNING epoch"
        )
        params = {"pid": pid, "owner": self.owner, "lease": self.lease}

        def claim() -> bool:
            rows = self._fetch("hold", sql, params)
            if rows:
                self._remember(pid, int(rows[0][0]))
            return bool(rows)

        self._wait_for("hold", pid, claim)

    def release(self, pid: int) -> bool:
        """End this store's claim on ``pid``, leaving its checkpoint for another worker."""
        epoch = self.epoch_of(pid)
        if epoch is None:
            return False
        self._end_claims({pid: epoch})
        return True

    def release_all(self) -> None:
        """End every claim of this store (a worker shutting down)."""
        claims = self.held_claims()
        if claims:
            self._end_claims(claims)

    def close(self) -> None:
        """End every claim, stop renewing and close the connections. Idempotent."""
        if self._closed:
            return
        try:
            self.release_all()
        except Exception as exc:  # the leases run out by themselves
            log.warning("persistence.release_failed", error=repr(exc))
        self._keeper.stop()
        self._closed = True
        self._pool.close()

    # Loading.

    def has_checkpoint(self, pid: int) -> bool:
        """True if ``pid`` has a running checkpoint."""
        rows = self._fetch(
            "look up",
            "SELECT 1 FROM wa_checkpoint WHERE pid = %(pid)s AND status = 'running' "
            "AND data IS NOT NULL",
            {"pid": pid},
        )
        return bool(rows)

    def take_over(self, pid: int) -> Any:
        """Claim and load ``pid``'s running checkpoint (see ``CheckpointStore.take_over``)."""
        self._register()
        rows = self._fetch(
            "take over",
            "UPDATE wa_checkpoint AS c SET owner = %(owner)s, epoch = c.epoch + 1 "
            "WHERE pid = %(pid)s AND status = 'running' "
            f"AND data IS NOT NULL AND {_claimable('c')} "
            "RETURNING epoch, class_path, data, key_id",
            {"pid": pid, "owner": self.owner, "lease": self.lease},
        )
        if not rows:
            if not self.has_checkpoint(pid):
                raise CheckpointMissingError(
                    f"process {pid} has no running checkpoint in the database; it ended or "
                    "never had one"
                )
            whom = "this store" if self.epoch_of(pid) is not None else "another worker"
            raise LockedError(f"process {pid} is held by {whom}")
        epoch, class_path, data, key_id = rows[0]
        self._remember(pid, int(epoch))
        try:
            state = self._decode(pid, bytes(data), key_id)
            return restore_process(pid, class_path, state, self._where(pid, _RUNNING))
        except BaseException:
            self.release(pid)
            raise

    def load_all_processes(self) -> list[Any]:
        """Claim up to ``claim_batch`` running checkpoints nobody holds, oldest pid first, and
        load them; refused ones are retired as failed and reported to ``on_unreadable``."""
        self._register()
        rows = self._fetch(
            "claim",
            "WITH free AS (SELECT pid FROM wa_checkpoint AS f WHERE status = 'running' "
            f"AND data IS NOT NULL AND {_claimable('f')} ORDER BY pid LIMIT %(limit)s "
            "FOR UPDATE SKIP LOCKED) "
            "UPDATE wa_checkpoint AS c SET owner = %(owner)s, epoch = c.epoch + 1 "
            "FROM free WHERE c.pid = free.pid "
            "RETURNING c.pid, c.epoch, c.class_path, c.data, c.key_id",
            {"owner": self.owner, "lease": self.lease, "limit": self.claim_batch},
        )
        for pid, epoch, *_rest in rows:
            self._remember(int(pid), int(epoch))
        loaded: list[Any] = []
        for pid, _epoch, class_path, data, key_id in sorted(rows):
            process = self._adopt_one(int(pid), class_path, bytes(data), key_id)
            if process is not None:
                loaded.append(process)
        return loaded

    # Intents.

    def record_intent(self, pid: int, intent: Intent) -> None:
        """Keep ``intent`` for whoever adopts ``pid`` next; the last one wins."""
        self._execute(
            "record an intent",
            "INSERT INTO wa_intent (pid, data) VALUES (%(pid)s, %(data)s) "
            "ON CONFLICT (pid) DO UPDATE SET data = EXCLUDED.data",
            {"pid": pid, "data": messages.encode(intent)},
        )

    def take_intent(self, pid: int) -> Intent | None:
        """Remove and return the intent kept for ``pid``; a damaged one is logged and dropped."""
        rows = self._fetch(
            "take an intent",
            "DELETE FROM wa_intent WHERE pid = %(pid)s RETURNING data",
            {"pid": pid},
        )
        if not rows:
            return None
        try:
            record = messages.decode(bytes(rows[0][0]))
        except MessageError as exc:
            log.warning("persistence.bad_intent", pid=pid, error=str(exc))
            return None
        if not isinstance(record, Intent):
            log.warning("persistence.bad_intent", pid=pid, error=f"a {type(record).__name__}")
            return None
        return record

    # What the lease keeper and the daemon use.

    def request_control(self, pid: int, intent: Intent, channel: str) -> tuple[bool, int]:
        """Deliver a pause, play or kill to ``pid`` wherever it runs: if a worker with a live
        lease holds it, ``NOTIFY`` the request on ``channel`` (its holder acts on it); else
        keep it as an intent for the next claim and ``NOTIFY`` a wake. The row is locked
        meanwhile, so a claim cannot slip between the look and the choice.

        Returns: (sent to a holder, workers with a live lease).

        Raises:
            CheckpointMissingError: if ``pid`` has no running checkpoint here.
        """
        from persistence.messages import WAKE, ControlRequest
        from persistence.pg_notify import send

        def deliver() -> tuple[bool, int]:
            with self._pool.connection() as connection:
                row = connection.execute(
                    "SELECT c.owner IS NOT NULL AND EXISTS (SELECT 1 FROM wa_worker AS w "
                    "WHERE w.id = c.owner AND w.lease_expires > now()) FROM wa_checkpoint AS c "
                    "WHERE c.pid = %s AND c.status = 'running' FOR UPDATE",
                    (pid,),
                ).fetchone()
                if row is None:
                    raise self._missing(pid)
                held = bool(row[0])
                if held:
                    request = ControlRequest(intent.action, pid, intent.message)
                    send(connection, channel, request)
                else:
                    connection.execute(
                        "INSERT INTO wa_intent (pid, data) VALUES (%s, %s) ON CONFLICT (pid) "
                        "DO UPDATE SET data = EXCLUDED.data",
                        (pid, messages.encode(intent)),
                    )
                    send(connection, channel, WAKE)
                live = connection.execute(
                    "SELECT count(*) FROM wa_worker WHERE lease_expires > now()"
                ).fetchone()
                return held, int(live[0]) if live else 0

        result: tuple[bool, int] = self._run("deliver a request to", deliver)
        return result

    def connection(self) -> Any:
        """A pooled connection (a context manager that commits on success)."""
        return self._pool.connection()

    def forget_lost(self, pid: int, epoch: int) -> bool:
        """Drop a claim the lease keeper found lost; True if it was still held here."""
        with self._mutex:
            if self._held.get(pid) != epoch:
                return False
            del self._held[pid]
            return True

    # Internals.

    def _adopt_one(self, pid: int, class_path: str, data: bytes, key_id: str) -> Any | None:
        """The process of a row this store just claimed; None if it was retired or refused."""
        try:
            state = self._decode(pid, data, key_id)
            end = terminal_state(state)
            if end is not None:  # a crash between the end and the retirement
                self._retire(pid, _FAILED if end is ProcessState.EXCEPTED else _FINISHED, None)
                return None
            return restore_process(pid, class_path, state, self._where(pid, _RUNNING))
        except CheckpointError as exc:
            self._refuse(pid, str(exc))
        except ProvenanceError as exc:
            log.warning("persistence.checkpoint_deferred", pid=pid, error=str(exc))
            self.release(pid)
        except BaseException:
            self.release(pid)
            raise
        return None

    def _decode(self, pid: int, data: bytes, key_id: str) -> dict[str, Any]:
        """Verify a row and unpickle its state; nothing is unpickled before it is verified.

        Raises:
            CheckpointKeyMismatchError: it was signed with another machine's key.
            CheckpointError: it is forged, damaged, of another pid or names a refused class.
        """
        source = self._where(pid, _RUNNING)
        if key_id != self.key_id:
            raise CheckpointKeyMismatchError(
                f"checkpoint {source} was signed with another key (key id {key_id or 'none'}; "
                f"this machine's is {self.key_id}): the machines' checkpoint keys differ. "
                "Give every machine the same key file with WORKACTORS_CHECKPOINT_KEY_FILE; the "
                "checkpoint was not unpickled"
            )
        envelope = self.codec.describe(data, source=source)
        if envelope.pid != pid:
            raise CheckpointCorruptError(
                f"checkpoint {source} is signed for process {envelope.pid}, not {pid}: a row "
                "was copied over another; discard it"
            )
        return dict(self.codec.decode(data, source=source).state)

    def _refuse(self, pid: int, reason: str) -> None:
        try:
            self._retire(pid, _FAILED, reason)
        except Exception as exc:
            log.error("persistence.refusal_not_recorded", pid=pid, error=repr(exc))
            self.release(pid)
        log.warning("persistence.checkpoint_refused", pid=pid, store="postgresql", reason=reason)
        if self.on_unreadable is not None:
            try:
                self.on_unreadable(pid, reason)
            except Exception as exc:
                log.error("persistence.on_unreadable_failed", pid=pid, error=repr(exc))

    def _retire(self, pid: int, status: str, reason: str | None) -> str:
        epoch = self.epoch_of(pid)
        sql = (
            "UPDATE wa_checkpoint AS c SET status = %(status)s, reason = %(reason)s, "
            "owner = NULL, updated = now() WHERE pid = %(pid)s AND status = 'running' "
            "AND data IS NOT NULL AND "
            + ("owner = %(owner)s AND epoch = %(epoch)s" if epoch is not None else _claimable("c"))
        )
        params = {"pid": pid, "status": status, "reason": reason, "owner": self.owner}
        if epoch is not None:
            if not self._execute("retire", sql, {**params, "epoch": epoch}):
                self._forget(pid, epoch)
                if not self.has_checkpoint(pid):
                    raise self._missing(pid)
                raise _lost(pid, epoch, "its end")
        else:

            def retire() -> bool:
                if self._execute("retire", sql, params):
                    return True
                if not self.has_checkpoint(pid):
                    raise self._missing(pid)
                return False

            self._wait_for("retire", pid, retire)
        self._forget(pid, epoch)
        log.info("persistence.checkpoint_retired", pid=pid, destination=f"postgresql:{status}")
        return self._where(pid, status)

    def _end_claims(self, claims: Mapping[int, int]) -> None:
        """End the claims ``claims`` (pid -> epoch); a row that never got a checkpoint goes.

        One row per transaction: a statement here never holds one row while it waits for
        another (see the module docstring).
        """

        def end() -> None:
            with self._pool.connection() as connection:
                connection.autocommit = True
                try:
                    for pid, epoch in claims.items():
                        params = {"pid": pid, "epoch": epoch, "owner": self.owner}
                        mine = "pid = %(pid)s AND owner = %(owner)s AND epoch = %(epoch)s"
                        connection.execute(
                            f"DELETE FROM wa_checkpoint WHERE data IS NULL AND {mine}", params
                        )
                        connection.execute(
                            f"UPDATE wa_checkpoint SET owner = NULL WHERE {mine}", params
                        )
                finally:
                    connection.autocommit = False

        try:
            self._run("release", end)
        except CheckpointWriteError as exc:
            # Unreachable for a minute: the lease keeper releases them once it is back (our
            # lease, which it renews, would otherwise keep them from everyone).
            log.warning("persistence.release_deferred", pids=sorted(claims), error=str(exc))
            with self._mutex:
                self._unreleased.update(claims)
        with self._mutex:
            for pid, epoch in claims.items():
                if self._held.get(pid) == epoch:
                    del self._held[pid]

    def retry_releases(self) -> None:
        """Release the claims a failed release left (the lease keeper calls this)."""
        with self._mutex:
            pending, self._unreleased = self._unreleased, {}
        if pending:
            self._end_claims(pending)

    def _remember(self, pid: int, epoch: int) -> None:
        with self._mutex:
            self._held[pid] = epoch
        self._keeper.ensure_running()

    def _forget(self, pid: int, epoch: int | None) -> None:
        with self._mutex:
            if epoch is None or self._held.get(pid) == epoch:
                self._held.pop(pid, None)

    def _register(self) -> None:
        """Give this store a lease in ``wa_worker`` before its first claim (and again if a
        keeper cleared its row while it was stopped), so that its claims are not claimable."""
        if self._registered:
            return
        self._keeper.renew_now()
        self._registered = True
        self._keeper.ensure_running()

    def _wait_for(self, what: str, pid: int, attempt: Callable[[], bool]) -> None:
        """Repeat ``attempt`` until it succeeds or ``lock_timeout`` passes: another worker holds
        ``pid`` meanwhile. Rare (a write for a process by one that does not hold it), so it
        looks again after a short pause rather than listening for the claim's end."""
        deadline = time.monotonic() + self.lock_timeout
        while not attempt():
            if time.monotonic() >= deadline:
                raise LockTimeoutError(
                    f"cannot {what} process {pid}: another worker held it for over "
                    f"{self.lock_timeout:g} s"
                )
            time.sleep(WAIT_PAUSE)

    def _execute(self, what: str, sql: str, params: Mapping[str, Any]) -> int:
        """Run one statement in its own transaction; the number of rows it changed."""

        def run() -> int:
            with self._pool.connection() as connection:
                return connection.execute(sql, params).rowcount

        changed: int = self._run(what, run)
        return changed

    def _fetch(self, what: str, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run one statement in its own transaction; the rows it returned."""

        def run() -> list[tuple[Any, ...]]:
            with self._pool.connection() as connection:
                return list(connection.execute(sql, params).fetchall())

        rows: list[tuple[Any, ...]] = self._run(what, run)
        return rows

    def _run(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            return retrying(what, call)
        except psycopg.Error as exc:
            raise CheckpointWriteError(
                f"cannot {what} checkpoints in the database: {exc}; check that the PostgreSQL "
                "server is running and reachable"
            ) from exc

    def _missing(self, pid: int) -> CheckpointMissingError:
        return CheckpointMissingError(
            f"process {pid} has no running checkpoint in the database; it ended or never had one"
        )

    @staticmethod
    def _where(pid: int, status: str) -> str:
        return f"postgresql:{status}/{pid}"
