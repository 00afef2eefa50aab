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
  between workers and provenance writers can never form a cycle (``persistence.pg_claim_sql``);
- every write made under a claim (a checkpoint, a retirement, a release) names the owner and
  epoch it was claimed with (``WHERE owner = me AND epoch = e``): once another worker claimed
  the process, the write matches no row and raises ``LeaseLostError``; the process is dropped
  here. ``fence(pid)`` gives the same check to the provenance writes (``ClaimFence``).

A row is verified before anything in it is unpickled (``persistence.pg_rows``). This class
decides what is written under which claim; it composes the rest, each in a module of its own:
``Claims`` makes, ends and retires claims and keeps their record, ``RowAdopter`` claims rows and
restores their processes, ``CheckpointRows`` turns checkpoints into rows and verifies them,
``StoreDatabase`` runs the statements, and ``pg_intents`` delivers intents and control requests.
"""

from __future__ import annotations

import os
import pickle
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from persistence.codec import CheckpointCodec
from persistence.errors import CheckpointWriteError
from persistence.leases import LeaseKeeper
from persistence.messages import Intent
from persistence.pg_adoption import RowAdopter
from persistence.pg_claim_sql import SAVE_FENCED, SAVE_UNHELD
from persistence.pg_claims import Claims, wait_for
from persistence.pg_database import StoreDatabase
from persistence.pg_fence import ClaimFence, lost_claim
from persistence.pg_intents import record_intent, request_control, take_intent
from persistence.pg_rows import FAILED, FINISHED, RUNNING, CheckpointRows, key_id_of, where
from persistence.store import UnreadableHook, outcome_of, save_each
from provenance.log import get_logger

__all__ = ["DEFAULT_CLAIM_BATCH", "DEFAULT_LEASE", "ClaimFence", "PostgresStore", "key_id_of"]

log = get_logger(__name__)

#: Seconds a claim lasts unless renewed: a dead worker's processes are taken over after this.
DEFAULT_LEASE = 5.0
#: The most rows one adoption claims: the rest stay for other workers (or the next adoption).
DEFAULT_CLAIM_BATCH = 64


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
        self._rows = CheckpointRows(self.codec, self.key_id)
        self._database = StoreDatabase(url, name=f"workactors-store-{self.owner}")
        self._keeper = LeaseKeeper(self)
        self._claims = Claims(self._database, self.owner, lease, self._keeper.ensure_running)
        self._adopter = RowAdopter(self._database, self._rows, self._claims)
        self._registered = False
        self._closed = False
        if worker is not None:  # listed in wa_worker from the start, holding or not
            self._register()

    def __repr__(self) -> str:
        return f"<PostgresStore owner={self.owner!r} held={len(self._claims)}>"

    def __getstate__(self) -> Any:
        raise TypeError("a PostgresStore holds connections and a key and is not pickled")

    @property
    def held_pids(self) -> frozenset[int]:
        """The pids this store holds a claim on."""
        return self._claims.pids()

    def held_claims(self) -> dict[int, int]:
        """pid -> epoch of every claim this store holds (a copy)."""
        return self._claims.copy()

    def epoch_of(self, pid: int) -> int | None:
        """The epoch of this store's claim on ``pid``, None if it holds none."""
        return self._claims.epoch_of(pid)

    def fence(self, pid: int) -> ClaimFence | None:
        """The fence of this store's claim on ``pid`` for provenance writes, which the database
        refuses once the claim was lost; None if this store never held ``pid``."""
        epoch = self._claims.write_epoch(pid)
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
            epoch = self._claims.write_epoch(pid)
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
        """Write ``pid``'s checkpoint, fenced by this store's claim if it holds one (or held
        one that was lost: then refused); a terminal state retires it and ends the claim.

        Raises:
            CheckpointEncodeError: the state cannot be pickled; the old checkpoint stays.
            LeaseLostError: this store's claim on ``pid`` ended; nothing was written.
            LockTimeoutError: another worker holds ``pid`` (for a write by a non-holder).
            CheckpointWriteError: the database could not be reached.
        """
        params = self._row(pid, class_path, state)
        epoch = self._claims.write_epoch(pid)  # a claim lost: fenced, and so refused
        if epoch is not None:
            params["epoch"] = epoch
            written = self._database.execute("save", SAVE_FENCED, params) > 0
            return self._saved(params, written=written)
        wait_for(
            "write",
            pid,
            lambda: self._database.execute("save", SAVE_UNHELD, params) > 0,
            self.lock_timeout,
        )
        return self._saved(params, written=True)

    def save_new_states(self, items: Sequence[tuple[int, str, Mapping[str, Any]]]) -> list[str]:
        """Write the first checkpoints of new processes in one transaction (pipelined): all
        are committed, or none. A row another worker holds (never so for a new pid) rolls the
        transaction back, tried again until ``lock_timeout``; see ``CheckpointStore``."""
        rows = [self._row(pid, class_path, state) for pid, class_path, state in items]
        if not rows:
            return []

        def insert_all() -> bool:
            with self._database.connection() as connection, connection.cursor() as cursor:
                cursor.executemany(SAVE_UNHELD + " RETURNING pid", rows, returning=True)
                if all(_returned_rows(cursor)):
                    return True
                connection.rollback()
                return False

        wait_for(
            "write",
            rows[0]["pid"],
            lambda: self._database.run("save", insert_all),
            self.lock_timeout,
        )
        return [self._saved(params, written=True) for params in rows]

    def _row(self, pid: int, class_path: str, state: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters of the statements that write ``pid``'s checkpoint (not its epoch).

        Raises:
            CheckpointEncodeError: the state cannot be pickled.
        """
        columns = self._rows.columns(pid, class_path, state, self.pickle_protocol)
        keep = columns["status"] == RUNNING
        return {**columns, "owner": self.owner, "keep": keep, "lease": self.lease}

    def _saved(self, params: Mapping[str, Any], *, written: bool) -> str:
        """After a write with ``params``: where the checkpoint is, the claim ended if it was
        terminal (or lost).

        Raises:
            LeaseLostError: if a fenced write changed no row: the claim was lost.
        """
        pid, status, epoch = params["pid"], params["status"], params.get("epoch")
        if not written:
            assert epoch is not None  # only a fenced write can miss
            self._claims.forget_lost(pid, epoch)
            raise lost_claim(pid, epoch, "its checkpoint")
        if status != RUNNING:
            self._claims.forget(pid, epoch)
            log.info("persistence.checkpoint_retired", pid=pid, destination=f"postgresql:{status}")
        return where(pid, status)

    def _update_fenced(self, rows: Sequence[Mapping[str, Any]]) -> list[bool]:
        """Run the fenced update of each of ``rows`` in one transaction (pipelined); whether
        each changed its row."""

        def run() -> list[bool]:
            with self._database.connection() as connection, connection.cursor() as cursor:
                cursor.executemany(SAVE_FENCED + " RETURNING pid", rows, returning=True)
                return _returned_rows(cursor)

        return self._database.run("save", run)

    def mark_finished(self, pid: int) -> str:
        """Retire ``pid``'s running checkpoint as finished and end the claim."""
        return self._claims.retire(pid, FINISHED, None, self.lock_timeout)

    def mark_failed(self, pid: int, reason: str) -> str:
        """Retire ``pid``'s running checkpoint as failed, with ``reason``, and end the claim."""
        return self._claims.retire(pid, FAILED, reason, self.lock_timeout)

    # Holding.

    def hold(self, pid: int) -> None:
        """Claim ``pid``, launched here, waiting up to ``lock_timeout`` for another holder.

        Raises:
            LockedError: if this store holds it already.
            LockTimeoutError: if another worker still holds it after ``lock_timeout``.
        """
        self._register()
        self._claims.hold(pid, self.lock_timeout)

    def release(self, pid: int) -> bool:
        """End this store's claim on ``pid``, leaving its checkpoint for another worker."""
        return self._claims.release(pid)

    def release_all(self) -> None:
        """End every claim of this store (a worker shutting down)."""
        claims = self.held_claims()
        if claims:
            self._claims.end(claims)

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
        self._database.close()

    # Loading.

    def has_checkpoint(self, pid: int) -> bool:
        """True if ``pid`` has a running checkpoint."""
        return self._claims.has_checkpoint(pid)

    def take_over(self, pid: int) -> Any:
        """Claim and load ``pid``'s running checkpoint (see ``CheckpointStore.take_over``)."""
        self._register()
        return self._adopter.take_over(pid)

    def load_all_processes(self) -> list[Any]:
        """Claim up to ``claim_batch`` running checkpoints nobody holds, oldest pid first, and
        load them; refused ones are retired as failed and reported to ``on_unreadable``."""
        self._register()
        return self._adopter.adopt_batch(self.claim_batch, self.lock_timeout, self.on_unreadable)

    # Intents.

    def record_intent(self, pid: int, intent: Intent) -> None:
        """Keep ``intent`` for whoever adopts ``pid`` next; the last one wins."""
        record_intent(self._database, pid, intent)

    def take_intent(self, pid: int) -> Intent | None:
        """Remove and return the intent kept for ``pid``; a damaged one is logged and dropped."""
        return take_intent(self._database, pid)

    # What the lease keeper and the daemon use.

    def request_control(self, pid: int, intent: Intent, channel: str) -> tuple[bool, int]:
        """Deliver a pause, play or kill to ``pid`` wherever it runs (``pg_intents``).

        Returns: (sent to a holder, workers with a live lease).

        Raises:
            CheckpointMissingError: if ``pid`` has no running checkpoint here.
        """
        return request_control(self._database, pid, intent, channel)

    def connection(self) -> Any:
        """A pooled connection (a context manager that commits on success)."""
        return self._database.connection()

    def forget_lost(self, pid: int, epoch: int) -> bool:
        """Drop a claim the lease keeper found lost, keeping its epoch to fence later writes
        with; True if it was still held here."""
        return self._claims.forget_lost(pid, epoch)

    def retry_releases(self) -> None:
        """Release the claims a failed release left (the lease keeper calls this)."""
        self._claims.retry_releases()

    # Internals.

    def _register(self) -> None:
        """Give this store a lease in ``wa_worker`` before its first claim (and again if a
        keeper cleared its row while it was stopped), so that its claims are not claimable."""
        if self._registered:
            return
        self._keeper.renew_now()
        self._registered = True
        self._keeper.ensure_running()


def _returned_rows(cursor: Any) -> list[bool]:
    """Whether each statement of an ``executemany(..., returning=True)`` returned a row."""
    returned = []
    while True:
        returned.append(cursor.fetchone() is not None)
        if not cursor.nextset():
            return returned
