"""``InMemoryStore``: checkpoints kept in this OS process's memory.

For what must survive passivation and a runtime's restart but not the OS process: tests of
durable behaviour without files, and several runtimes of one program handing processes to each
other. States are pickled when saved, as the file store does, so a checkpoint is a snapshot the
process cannot change afterwards and an unpicklable state fails at the same step.

Several stores may share one ``MemoryCheckpoints``: each store is one holder, as each
``PicklePersistence`` is, so one of them never loads what another holds.
"""

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from persistence.errors import (
    CheckpointEncodeError,
    CheckpointError,
    CheckpointLoadError,
    CheckpointMissingError,
    LockedError,
    LockTimeoutError,
)
from persistence.messages import Intent
from persistence.restore import restore_process, terminal_state
from persistence.store import UnreadableHook, save_each
from provenance.errors import ProvenanceError
from provenance.log import get_logger
from provenance.process_state import ProcessState

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """One checkpoint: the class to restore with and its pickled state."""

    class_path: str
    data: bytes


@dataclass(frozen=True, slots=True)
class RetiredCheckpoint:
    """A checkpoint that left the running set, and why (failed ones only)."""

    checkpoint: StoredCheckpoint
    reason: str | None = None


@dataclass
class MemoryCheckpoints:
    """What stores sharing it see: running, finished and failed checkpoints, holds, intents."""

    running: dict[int, StoredCheckpoint] = field(default_factory=dict)
    finished: dict[int, RetiredCheckpoint] = field(default_factory=dict)
    failed: dict[int, RetiredCheckpoint] = field(default_factory=dict)
    holders: dict[int, InMemoryStore] = field(default_factory=dict)
    intents: dict[int, Intent] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)


class InMemoryStore:
    """A ``CheckpointStore`` in memory; see the module docstring.

    Args:
        shared: the checkpoints to share with other stores (default: a new, private set).
        lock_timeout: seconds ``hold`` and ``save_state`` wait for another holder.
        on_unreadable: told about checkpoints refused on load.
    """

    def __init__(
        self,
        shared: MemoryCheckpoints | None = None,
        *,
        lock_timeout: float = 5.0,
        on_unreadable: UnreadableHook | None = None,
        pickle_protocol: int = pickle.HIGHEST_PROTOCOL,
    ) -> None:
        self.shared = shared if shared is not None else MemoryCheckpoints()
        self.lock_timeout = lock_timeout
        self.on_unreadable = on_unreadable
        self.pickle_protocol = pickle_protocol

    def __repr__(self) -> str:
        return f"<InMemoryStore running={len(self.shared.running)} held={sorted(self.held_pids)}>"

    @property
    def held_pids(self) -> frozenset[int]:
        """The pids this store holds."""
        with self.shared.changed:
            return frozenset(pid for pid, who in self.shared.holders.items() if who is self)

    # Saving and retiring.

    def save_states(
        self, items: Sequence[tuple[int, str, Mapping[str, Any]]]
    ) -> list[str | Exception]:
        """One ``save_state`` after another (nothing to commit together in memory)."""
        return save_each(self, items)

    def save_new_states(self, items: Sequence[tuple[int, str, Mapping[str, Any]]]) -> list[str]:
        """Keep snapshots of the first states of new processes, all at once or none."""
        stored = [
            (pid, StoredCheckpoint(class_path, self._pickled(pid, class_path, state)))
            for pid, class_path, state in items
        ]
        with self.shared.changed:
            for pid, _checkpoint in stored:
                self._wait_for_hold(pid)
            self.shared.running.update(stored)
        return [self._where(pid, "running") for pid, _checkpoint in stored]

    def save_state(self, pid: int, class_path: str, state: Mapping[str, Any]) -> str:
        """Keep a snapshot of ``state``; a terminal one retires the checkpoint at once."""
        data = self._pickled(pid, class_path, state)
        end = terminal_state(state)
        with self.shared.changed:
            self._wait_for_hold(pid)
            self.shared.running[pid] = StoredCheckpoint(class_path, data)
            if end is None:
                return self._where(pid, "running")
            if end is ProcessState.EXCEPTED:
                reason = f"process {pid} excepted; its traceback is on its process node"
                return self._retire(pid, self.shared.failed, reason)
            return self._retire(pid, self.shared.finished)

    def mark_finished(self, pid: int) -> str:
        """Retire ``pid``'s running checkpoint as finished."""
        with self.shared.changed:
            self._wait_for_hold(pid)
            self._require_running(pid)
            return self._retire(pid, self.shared.finished)

    def mark_failed(self, pid: int, reason: str) -> str:
        """Retire ``pid``'s running checkpoint as failed, with ``reason``."""
        with self.shared.changed:
            self._wait_for_hold(pid)
            self._require_running(pid)
            return self._retire(pid, self.shared.failed, reason)

    # Holding.

    def hold(self, pid: int) -> None:
        """Claim ``pid``, waiting up to ``lock_timeout`` for another holder to let it go."""
        with self.shared.changed:
            if self.shared.holders.get(pid) is self:
                raise LockedError(f"process {pid} is already held by this store")
            self._wait_for_hold(pid)
            self.shared.holders[pid] = self

    def release(self, pid: int) -> bool:
        """End this store's hold of ``pid``; False if it did not hold it."""
        with self.shared.changed:
            if self.shared.holders.get(pid) is not self:
                return False
            del self.shared.holders[pid]
            self.shared.changed.notify_all()
            return True

    def release_all(self) -> None:
        """End every hold of this store."""
        with self.shared.changed:
            for pid in [pid for pid, who in self.shared.holders.items() if who is self]:
                del self.shared.holders[pid]
            self.shared.changed.notify_all()

    # Loading.

    def has_checkpoint(self, pid: int) -> bool:
        """True if ``pid`` has a running checkpoint."""
        with self.shared.changed:
            return pid in self.shared.running

    def take_over(self, pid: int) -> Any:
        """Load and hold ``pid``'s process (see ``CheckpointStore.take_over``)."""
        with self.shared.changed:
            checkpoint = self._require_running(pid)
            holder = self.shared.holders.get(pid)
            if holder is not None:
                whom = "this store" if holder is self else "another store"
                raise LockedError(f"process {pid} is held by {whom}")
            self.shared.holders[pid] = self
        try:
            return self._restore(pid, checkpoint)
        except BaseException:
            self.release(pid)
            raise

    def load_all_processes(self) -> list[Any]:
        """Load and hold every running checkpoint nobody holds, oldest pid first."""
        with self.shared.changed:
            free = sorted(pid for pid in self.shared.running if pid not in self.shared.holders)
            for pid in free:
                self.shared.holders[pid] = self
        loaded: list[Any] = []
        for pid in free:
            with self.shared.changed:
                checkpoint = self.shared.running.get(pid)
            if checkpoint is None:
                self.release(pid)
                continue
            if (process := self._adopt_one(pid, checkpoint)) is not None:
                loaded.append(process)
        return loaded

    # Intents.

    def record_intent(self, pid: int, intent: Intent) -> None:
        """Keep ``intent`` for whoever adopts ``pid`` next; the last one wins."""
        with self.shared.changed:
            self.shared.intents[pid] = intent

    def take_intent(self, pid: int) -> Intent | None:
        """Remove and return the intent kept for ``pid``."""
        with self.shared.changed:
            return self.shared.intents.pop(pid, None)

    def fence(self, pid: int) -> None:
        """No fence: a hold here ends only when its holder ends it."""
        return

    # Internals.

    def _adopt_one(self, pid: int, checkpoint: StoredCheckpoint) -> Any | None:
        """The process of a checkpoint this store just claimed; None if it was retired."""
        try:
            state = self._unpickle(pid, checkpoint)
            end = terminal_state(state)
            if end is not None:  # a crash between the end and the retirement
                failed = end is ProcessState.EXCEPTED
                with self.shared.changed:
                    self._retire(pid, self.shared.failed if failed else self.shared.finished)
                return None
            return self._restore(pid, checkpoint, state)
        except CheckpointError as exc:
            self._refuse(pid, str(exc))
        except ProvenanceError as exc:
            log.warning("persistence.checkpoint_deferred", pid=pid, error=str(exc))
            self.release(pid)
        except BaseException:
            self.release(pid)
            raise
        return None

    def _pickled(self, pid: int, class_path: str, state: Mapping[str, Any]) -> bytes:
        try:
            return pickle.dumps(dict(state), protocol=self.pickle_protocol)
        except Exception as exc:
            raise CheckpointEncodeError(
                f"the state of process {pid} ({class_path}) cannot be pickled: {exc!r}"
            ) from exc

    def _restore(self, pid: int, checkpoint: StoredCheckpoint, state: Any = None) -> Any:
        if state is None:
            state = self._unpickle(pid, checkpoint)
        return restore_process(pid, checkpoint.class_path, state, self._where(pid, "running"))

    def _unpickle(self, pid: int, checkpoint: StoredCheckpoint) -> Any:
        try:
            return pickle.loads(checkpoint.data)
        except Exception as exc:
            raise CheckpointLoadError(
                f"checkpoint {self._where(pid, 'running')} ({checkpoint.class_path}) cannot be "
                f"unpickled: {exc!r}; the classes it names may have changed"
            ) from exc

    def _refuse(self, pid: int, reason: str) -> None:
        with self.shared.changed:
            self._retire(pid, self.shared.failed, reason)
        log.warning("persistence.checkpoint_refused", pid=pid, store="memory", reason=reason)
        if self.on_unreadable is not None:
            try:
                self.on_unreadable(pid, reason)
            except Exception as exc:
                log.error("persistence.on_unreadable_failed", pid=pid, error=repr(exc))

    def _wait_for_hold(self, pid: int) -> None:
        """Wait (holding the condition) until nobody but this store holds ``pid``."""
        deadline = time.monotonic() + self.lock_timeout
        while (holder := self.shared.holders.get(pid)) is not None and holder is not self:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LockTimeoutError(
                    f"process {pid} is held by another store for over {self.lock_timeout:g} s"
                )
            self.shared.changed.wait(left)

    def _require_running(self, pid: int) -> StoredCheckpoint:
        checkpoint = self.shared.running.get(pid)
        if checkpoint is None:
            raise CheckpointMissingError(
                f"process {pid} has no running checkpoint in memory; it ended or never had one"
            )
        return checkpoint

    def _retire(
        self, pid: int, bucket: dict[int, RetiredCheckpoint], reason: str | None = None
    ) -> str:
        """Move ``pid``'s running checkpoint into ``bucket``; the caller holds the condition."""
        bucket[pid] = RetiredCheckpoint(self.shared.running.pop(pid), reason)
        if self.shared.holders.get(pid) is self:
            del self.shared.holders[pid]
        self.shared.changed.notify_all()
        where = "failed" if bucket is self.shared.failed else "finished"
        log.info("persistence.checkpoint_retired", pid=pid, destination=f"memory:{where}")
        return self._where(pid, where)

    @staticmethod
    def _where(pid: int, folder: str) -> str:
        return f"memory:{folder}/{pid}"
