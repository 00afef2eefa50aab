"""``HeldLocks``: the file locks a ``PicklePersistence`` keeps on the processes it holds.

A process that was loaded (or launched and held) stays locked from then until its terminal
checkpoint is saved or it is released: no other worker or thread loads it meanwhile. Every lock
is acquired with this object as its owner (``persistence.lock``), not the calling thread, so
that whichever thread handles the process (the persistence actor) may re-enter and release it.
Writes to a process that is not held take its lock for the write only.

Every change to the held set happens under the persistence's mutex, shared with its file
changes, so that a retirement and a release of one process cannot interleave.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from persistence.errors import LockedError
from persistence.folders import CheckpointFolders, lock_path_of
from persistence.lock import RLock


class HeldLocks:
    """The locks held on processes in ``folders``, by pid.

    Args:
        folders: where the checkpoints, and so their lock files, are.
        mutex: the persistence's mutex; every change to the held set is made under it.
    """

    def __init__(self, folders: CheckpointFolders, mutex: threading.RLock) -> None:
        self._folders = folders
        self._mutex = mutex
        self._held: dict[int, RLock] = {}

    @property
    def pids(self) -> frozenset[int]:
        """The pids held."""
        with self._mutex:
            return frozenset(self._held)

    @property
    def stems(self) -> frozenset[str]:
        """The checkpoint file stems (pids as text) held."""
        with self._mutex:
            return frozenset(str(pid) for pid in self._held)

    def holds(self, pid: int) -> bool:
        """True if the lock of ``pid`` is held here."""
        return pid in self._held

    def hold(self, pid: int, timeout: float) -> None:
        """Take and keep the lock of ``pid``, waiting up to ``timeout`` for another owner.

        Raises:
            LockedError: if it is held here already.
            LockTimeoutError: if another owner still holds it after ``timeout`` seconds.
        """
        with self._mutex:
            if pid in self._held:
                raise LockedError(f"process {pid} is already held by this persistence")
        lock = RLock(lock_path_of(self._folders.running_path(pid)), timeout=timeout)
        lock.acquire(owner=self)
        try:
            self.keep(pid, lock)
        except BaseException:
            self.unlock(lock)
            raise

    def keep(self, pid: int, lock: RLock) -> None:
        """Hold ``lock``, acquired for the checkpoint of ``pid``, until ``drop(pid)``.

        Raises:
            LockedError: if ``pid`` is held here already (``lock`` is of a second checkpoint).
        """
        with self._mutex:
            if pid in self._held:
                raise LockedError(
                    f"process {pid} is already loaded and held by this persistence "
                    f"({lock.filename} is a second checkpoint of it); release it first"
                )
            self._held[pid] = lock

    def drop(self, pid: int) -> bool:
        """Release the lock held for ``pid``; False if none was."""
        with self._mutex:
            lock = self._held.pop(pid, None)
            if lock is None:
                return False
            self.unlock(lock)
            return True

    def drop_all(self) -> None:
        """Release every lock held."""
        with self._mutex:
            for pid in list(self._held):
                self.drop(pid)

    @contextmanager
    def locked(self, pid: int, timeout: float) -> Iterator[None]:
        """Hold the lock of ``pid`` for a block: the held one re-entered, else a new one taken
        for the block (waiting up to ``timeout`` for another owner)."""
        lock = self._held.get(pid)
        if lock is None:
            lock = RLock(lock_path_of(self._folders.running_path(pid)), timeout=timeout)
        lock.acquire(owner=self)
        try:
            yield
        finally:
            lock.release(owner=self)

    def lock_checkpoint(self, path: Path) -> RLock:
        """The lock of the checkpoint at ``path``, acquired without waiting.

        Raises:
            LockedError: if another owner (or this one, through another lock) holds it.
        """
        lock = RLock(lock_path_of(path), timeout=0, fail_when_locked=True)
        lock.acquire(owner=self)
        return lock

    def unlock(self, lock: RLock) -> None:
        """Release ``lock``, acquired here and not kept."""
        lock.release(owner=self)
