"""Adopting rows of the shared queue: claim them, verify them, restore their processes, or
refuse them.

A claim comes first and the row is read in the same statement (``persistence.pg_claim_sql``),
so no two workers restore one process. What is claimed but cannot be restored is sorted by
whether trying again could help:

- refused (signed with another key, forged, damaged, of another pid, naming a refused class,
  or its class cannot restore it): retired as failed with the reason, and reported;
- deferred (the provenance database is busy or unreachable): released for a later claim;
- terminal (a crash between its last save and its retirement): retired, not restored.
"""

from __future__ import annotations

from typing import Any

from persistence.errors import CheckpointError, LockedError
from persistence.pg_claim_sql import CLAIM_BATCH, TAKE_OVER
from persistence.pg_claims import Claims
from persistence.pg_database import StoreDatabase
from persistence.pg_rows import FAILED, RUNNING, CheckpointRows, missing, status_of, where
from persistence.restore import restore_process, terminal_state
from persistence.store import UnreadableHook
from provenance.errors import ProvenanceError
from provenance.log import get_logger

log = get_logger(__name__)


class RowAdopter:
    """Claims rows for ``claims``' store and restores their processes (``rows`` verifies them).

    ``timeout``, given per call, is how long retiring a terminal or refused row waits for
    another holder; ``on_unreadable`` is told about each refused row.
    """

    def __init__(self, database: StoreDatabase, rows: CheckpointRows, claims: Claims) -> None:
        self._database = database
        self._rows = rows
        self._claims = claims

    def take_over(self, pid: int) -> Any:
        """Claim and load ``pid``'s running checkpoint (see ``CheckpointStore.take_over``).

        Raises:
            CheckpointMissingError: if ``pid`` has no running checkpoint.
            LockedError: if this store or another worker holds it.
            CheckpointError: if it is refused; the claim is ended.
        """
        claims = self._claims
        rows = self._database.fetch(
            "take over", TAKE_OVER, {"pid": pid, "owner": claims.owner, "lease": claims.lease}
        )
        if not rows:
            if not claims.has_checkpoint(pid):
                raise missing(pid)
            whom = "this store" if claims.epoch_of(pid) is not None else "another worker"
            raise LockedError(f"process {pid} is held by {whom}")
        epoch, class_path, data, key_id = rows[0]
        claims.remember(pid, int(epoch))
        try:
            state = self._rows.decode(pid, bytes(data), key_id)
            return restore_process(pid, class_path, state, where(pid, RUNNING))
        except BaseException:
            claims.release(pid)
            raise

    def adopt_batch(
        self, limit: int, timeout: float, on_unreadable: UnreadableHook | None
    ) -> list[Any]:
        """Claim up to ``limit`` running checkpoints nobody holds, oldest pid first, and load
        them; refused ones are retired as failed and reported to ``on_unreadable``."""
        claims = self._claims
        rows = self._database.fetch(
            "claim", CLAIM_BATCH, {"owner": claims.owner, "lease": claims.lease, "limit": limit}
        )
        for pid, epoch, *_rest in rows:
            claims.remember(int(pid), int(epoch))
        loaded: list[Any] = []
        remaining = sorted(rows)
        try:
            while remaining:
                pid, _epoch, class_path, data, key_id = remaining[0]
                process = self._adopt_one(
                    int(pid),
                    class_path,
                    bytes(data),
                    key_id,
                    timeout=timeout,
                    on_unreadable=on_unreadable,
                )
                remaining.pop(0)
                if process is not None:
                    loaded.append(process)
        except BaseException:
            # One row failed beyond a refusal (``_adopt_one`` let that one go): the caller
            # gets none of the batch, so none of it may stay claimed here.
            for row in remaining[1:]:
                claims.release(int(row[0]))
            for process in loaded:
                claims.release(process.pid)
            raise
        return loaded

    def _adopt_one(
        self,
        pid: int,
        class_path: str,
        data: bytes,
        key_id: str,
        *,
        timeout: float,
        on_unreadable: UnreadableHook | None,
    ) -> Any | None:
        """The process of a row this store just claimed; None if it was retired or refused."""
        try:
            state = self._rows.decode(pid, data, key_id)
            end = terminal_state(state)
            if end is not None:  # a crash between the end and the retirement
                self._claims.retire(pid, status_of(end), None, timeout)
                return None
            return restore_process(pid, class_path, state, where(pid, RUNNING))
        except CheckpointError as exc:
            self._refuse(pid, str(exc), timeout, on_unreadable)
        except ProvenanceError as exc:
            log.warning("persistence.checkpoint_deferred", pid=pid, error=str(exc))
            self._claims.release(pid)
        except BaseException:
            self._claims.release(pid)
            raise
        return None

    def _refuse(
        self, pid: int, reason: str, timeout: float, on_unreadable: UnreadableHook | None
    ) -> None:
        try:
            self._claims.retire(pid, FAILED, reason, timeout)
        except Exception as exc:
            log.error("persistence.refusal_not_recorded", pid=pid, error=repr(exc))
            self._claims.release(pid)
        log.warning("persistence.checkpoint_refused", pid=pid, store="postgresql", reason=reason)
        if on_unreadable is not None:
            try:
                on_unreadable(pid, reason)
            except Exception as exc:
                log.error("persistence.on_unreadable_failed", pid=pid, error=repr(exc))
