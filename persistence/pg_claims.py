"""``Claims``: the claims one ``PostgresStore`` holds, made, ended and retired in the database.

The database decides who holds a row; this keeps the store's own record, pid -> epoch, of the
claims it made, so that each write names the epoch it claimed with (and so fails once the claim
was taken over) and the lease keeper knows which rows to look at. A claim found lost is kept
apart, lost, until this store claims the process again: a step of it still running here must
keep writing under that old epoch, which the database refuses. Forgetting it instead would
leave nothing to fence those writes with, and they would go through unfenced (a replayed step's
children launched twice, once by each worker). Claims whose release failed (the server was
unreachable) are kept apart, owed, to be released once it is back: this store's lease, which
its keeper renews, would otherwise keep them from everyone.

Ending claims goes one row per transaction: a statement here never holds one row while it waits
for another (``persistence.pg_claim_sql``). The record is thread-safe: the persistence actor
writes under claims while the lease keeper reads them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from persistence.errors import CheckpointWriteError, LockedError, LockTimeoutError
from persistence.pg_claim_sql import DELETE_UNWRITTEN, HAS_CHECKPOINT, HOLD, RELEASE, retire
from persistence.pg_database import StoreDatabase
from persistence.pg_fence import lost_claim
from persistence.pg_rows import missing, where
from provenance.log import get_logger

log = get_logger(__name__)

#: How long ``hold`` and a write wait for another holder, between two looks at its row.
WAIT_PAUSE = 0.05


def wait_for(what: str, pid: int, attempt: Callable[[], bool], timeout: float) -> None:
    """Repeat ``attempt`` until it succeeds or ``timeout`` passes: another worker holds ``pid``
    meanwhile. Rare (a write for a process by one that does not hold it), so it looks again
    after a short pause rather than listening for the claim's end.

    Raises:
        LockTimeoutError: if ``attempt`` still failed after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while not attempt():
        if time.monotonic() >= deadline:
            raise LockTimeoutError(
                f"cannot {what} process {pid}: another worker held it for over {timeout:g} s"
            )
        time.sleep(WAIT_PAUSE)


class Claims:
    """The claims of the store ``owner`` (whose lease lasts ``lease`` seconds) in ``database``.

    ``on_claim`` is called after every claim made (it starts the lease keeper).
    """

    def __init__(
        self, database: StoreDatabase, owner: str, lease: float, on_claim: Callable[[], None]
    ) -> None:
        self.owner = owner
        self.lease = lease
        self._database = database
        self._on_claim = on_claim
        self._mutex = threading.Lock()
        #: pid -> epoch of every claim held.
        self._held: dict[int, int] = {}
        #: pid -> epoch of claims whose release failed, to be released when the server is back.
        self._unreleased: dict[int, int] = {}
        #: pid -> epoch of claims found lost (taken over by another worker) and not made again.
        self._lost: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._held)

    # The record.

    def pids(self) -> frozenset[int]:
        """The pids held."""
        with self._mutex:
            return frozenset(self._held)

    def copy(self) -> dict[int, int]:
        """pid -> epoch of every claim held (a copy)."""
        with self._mutex:
            return dict(self._held)

    def epoch_of(self, pid: int) -> int | None:
        """The epoch of the claim held on ``pid``, None if none is."""
        with self._mutex:
            return self._held.get(pid)

    def write_epoch(self, pid: int) -> int | None:
        """The epoch writes for ``pid`` are fenced with: of the claim held on it, else of the
        last one lost on it (so they are refused); None if this store never held it."""
        with self._mutex:
            held = self._held.get(pid)
            return self._lost.get(pid) if held is None else held

    def remember(self, pid: int, epoch: int) -> None:
        """Record a claim just made in the database."""
        with self._mutex:
            self._held[pid] = epoch
            self._lost.pop(pid, None)
        self._on_claim()

    def forget(self, pid: int, epoch: int | None) -> None:
        """Drop the claim on ``pid`` if it is still the one of ``epoch`` (any if None)."""
        with self._mutex:
            if epoch is None or self._held.get(pid) == epoch:
                self._held.pop(pid, None)

    def forget_lost(self, pid: int, epoch: int) -> bool:
        """Keep a claim found lost apart as lost; True if it was still held (with that epoch)."""
        with self._mutex:
            if self._held.get(pid) != epoch:
                return False
            del self._held[pid]
            self._lost[pid] = epoch
            return True

    # The database.

    def has_checkpoint(self, pid: int) -> bool:
        """True if ``pid`` has a running checkpoint."""
        return bool(self._database.fetch("look up", HAS_CHECKPOINT, {"pid": pid}))

    def hold(self, pid: int, timeout: float) -> None:
        """Claim ``pid``, launched here, waiting up to ``timeout`` for another holder.

        Raises:
            LockedError: if it is held here already.
            LockTimeoutError: if another worker still holds it after ``timeout``.
        """
        if self.epoch_of(pid) is not None:
            raise LockedError(f"process {pid} is already held by this store")
        params = {"pid": pid, "owner": self.owner, "lease": self.lease}

        def claim() -> bool:
            rows = self._database.fetch("hold", HOLD, params)
            if rows:
                self.remember(pid, int(rows[0][0]))
            return bool(rows)

        wait_for("hold", pid, claim, timeout)

    def release(self, pid: int) -> bool:
        """End the claim on ``pid``, leaving its checkpoint for another worker."""
        epoch = self.epoch_of(pid)
        if epoch is None:
            return False
        self.end({pid: epoch})
        return True

    def end(self, claims: Mapping[int, int]) -> None:
        """End the claims ``claims`` (pid -> epoch); a row that never got a checkpoint goes."""

        def release_rows() -> None:
            with self._database.connection() as connection:
                connection.autocommit = True
                try:
                    for pid, epoch in claims.items():
                        params = {"pid": pid, "epoch": epoch, "owner": self.owner}
                        connection.execute(DELETE_UNWRITTEN, params)
                        connection.execute(RELEASE, params)
                finally:
                    connection.autocommit = False

        try:
            self._database.run("release", release_rows)
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
        """Release the claims a failed release left."""
        with self._mutex:
            pending, self._unreleased = self._unreleased, {}
        if pending:
            self.end(pending)

    def retire(self, pid: int, status: str, reason: str | None, timeout: float) -> str:
        """Give ``pid``'s running checkpoint ``status`` (and ``reason``) and end its claim:
        under this store's claim if it holds one, else once no one does (waiting up to
        ``timeout``); where the checkpoint now is.

        Raises:
            CheckpointMissingError: if ``pid`` has no running checkpoint.
            LeaseLostError: if this store's claim on it ended.
            LockTimeoutError: if another worker still holds it after ``timeout``.
        """
        epoch = self.write_epoch(pid)
        sql = retire(fenced=epoch is not None)
        params = {"pid": pid, "status": status, "reason": reason, "owner": self.owner}
        if epoch is not None:
            if not self._database.execute("retire", sql, {**params, "epoch": epoch}):
                self.forget_lost(pid, epoch)
                if not self.has_checkpoint(pid):
                    raise missing(pid)
                raise lost_claim(pid, epoch, "its end")
        else:

            def attempt() -> bool:
                if self._database.execute("retire", sql, params):
                    return True
                if not self.has_checkpoint(pid):
                    raise missing(pid)
                return False

            wait_for("retire", pid, attempt, timeout)
        self.forget(pid, epoch)
        log.info("persistence.checkpoint_retired", pid=pid, destination=f"postgresql:{status}")
        return where(pid, status)
