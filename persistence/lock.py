"""``RLock``: a reentrant file lock on portalocker (``flock``), across threads and processes.

Who the owner is
    The owner of an acquisition is the calling thread, unless the caller names another owner
    with ``owner=``: any hashable token, compared with ``==``. The ``HeldLocks`` of a
    ``PicklePersistence`` passes itself, so that the lock it holds for a loaded process may be
    re-entered and released from whichever thread (actor) is handling that process. The same
    owner may acquire an ``RLock`` n times and must release it n times; the file lock is taken
    on the first acquisition and dropped on the last release.

How others are kept out
    - Another owner using the *same* ``RLock`` object waits on a condition variable (no polling)
      until the holder releases it, or until its timeout.
    - Anyone using *another* ``RLock`` object (another thread of this OS process, or another OS
      process) is kept out by ``flock``. An ``flock`` belongs to an open file description, and
      every ``RLock`` object opens the file itself, so two ``RLock`` objects on one path exclude
      each other even in one thread: reentrancy is per object *and* owner. Waiting for a
      ``flock`` polls with ``LOCK_NB`` every ``check_interval`` (the seed's design: ``flock`` has
      no timeout of its own).
    - The kernel drops an ``flock`` when the last descriptor of its holder closes, so a holder
      that dies (even of ``SIGKILL``) frees the lock.

Lock files may be removed while held: after taking the ``flock`` the lock checks that the path
still names the file it locked, and otherwise locks the new file. That is what lets
``PicklePersistence`` delete the lock file of a finished process. Lock files are created 0600.

Like every ``flock`` lock this is advisory, and a descriptor inherited through ``fork`` shares
the lock with the parent: start worker processes with ``spawn`` or ``subprocess``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Hashable
from types import TracebackType
from typing import IO, Any, Self

import portalocker
from portalocker import LockFlags

from persistence.errors import LockedError, LockError, LockNotHeldError, LockTimeoutError

#: Exclusive lock, the default.
LOCK_EX = LockFlags.EXCLUSIVE
#: Shared lock (several processes may hold it; reentrancy and in-process exclusion still apply).
LOCK_SH = LockFlags.SHARED
#: Do not block in ``flock``; the lock always polls, so this is added when missing.
LOCK_NB = LockFlags.NON_BLOCKING


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


class RLock:
    """A reentrant lock on ``filename``, in the manner of ``threading.RLock``.

    Args:
        filename: the lock file; created (0600) if the mode allows.
        mode: the mode the lock file is opened in.
        timeout: default seconds ``acquire`` waits for another owner; 0 tries once.
        check_interval: seconds between two attempts at an ``flock`` held elsewhere.
        fail_when_locked: default for ``acquire``: raise ``LockedError`` at once instead of
            waiting when another owner holds the lock.
        flags: ``LOCK_EX`` or ``LOCK_SH``, optionally with ``LOCK_NB`` (always implied).
    """

    def __init__(  # noqa: PLR0917 - the seed's positional signature
        self,
        filename: str | os.PathLike[str],
        mode: str = "a",
        timeout: float = 5,
        check_interval: float = 0.25,
        fail_when_locked: bool = False,
        flags: LockFlags = LOCK_EX | LOCK_NB,
    ) -> None:
        if check_interval <= 0:
            raise ValueError(f"check_interval must be positive, got {check_interval!r}")
        self._path = os.path.abspath(os.fspath(filename))
        self.mode = mode
        self.timeout = timeout
        self.check_interval = check_interval
        self.fail_when_locked = fail_when_locked
        self.flags = LockFlags(flags) | LOCK_NB
        self._condition = threading.Condition(threading.Lock())
        # The owner is set while an owner takes the flock (count 0) and while it holds it.
        self._owner: Hashable | None = None
        self._count = 0
        self._file: IO[Any] | None = None

    @property
    def filename(self) -> str:
        """The absolute path of the lock file."""
        return self._path

    @property
    def is_locked(self) -> bool:
        """True while some owner holds the lock through this object."""
        with self._condition:
            return self._count > 0

    def is_owned(self, owner: Hashable | None = None) -> bool:
        """True if ``owner`` (default: the calling thread) holds the lock through this object."""
        owner = _owner_or_thread(owner)
        with self._condition:
            return self._count > 0 and self._owner == owner

    def acquire(
        self,
        timeout: float | None = None,
        *,
        owner: Hashable | None = None,
        fail_when_locked: bool | None = None,
    ) -> None:
        """Take the lock for ``owner`` (default: the calling thread), or once more if it has it.

        Args:
            timeout: seconds to wait for another owner; default the lock's ``timeout``.
            owner: who takes the lock; default the calling thread.
            fail_when_locked: raise at once if another owner holds it; default the lock's.

        Raises:
            LockedError: another owner holds the lock and ``fail_when_locked`` is set.
            LockTimeoutError: another owner held the lock for all of ``timeout``.
            LockError: the lock file cannot be opened or locked.
        """
        owner = _owner_or_thread(owner)
        fail = self.fail_when_locked if fail_when_locked is None else fail_when_locked
        wait = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + wait
        with self._condition:
            while self._owner is not None:
                if self._owner == owner and self._count > 0:
                    self._count += 1
                    return
                remaining = deadline - time.monotonic()
                if fail or remaining <= 0:
                    raise self._busy_error(fail, wait, "another owner in this process")
                self._condition.wait(remaining)
            # Reserve the lock, then wait for the flock without blocking other callers' checks.
            self._owner = owner
        try:
            handle = self._lock_file(deadline, fail, wait)
        except BaseException:
            with self._condition:
                self._owner = None
                self._condition.notify()
            raise
        with self._condition:
            self._file = handle
            self._count = 1

    def release(self, *, owner: Hashable | None = None) -> None:
        """Release one acquisition of ``owner`` (default: the calling thread).

        Raises:
            LockNotHeldError: if ``owner`` does not hold the lock.
        """
        owner = _owner_or_thread(owner)
        with self._condition:
            if self._count == 0 or self._owner != owner:
                raise LockNotHeldError(
                    f"cannot release the lock on {self._path}: {owner!r} does not hold it; "
                    "release only what you acquired, once per acquire"
                )
            self._count -= 1
            if self._count:
                return
            handle, self._file = self._file, None
            self._owner = None
            try:
                if handle is not None:
                    portalocker.unlock(handle)
            finally:
                if handle is not None:
                    handle.close()
                self._condition.notify()

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __getstate__(self) -> Any:
        raise TypeError(
            f"an RLock on {self._path} holds an open file and cannot be pickled; "
            "pickle the path and create the lock again"
        )

    def __repr__(self) -> str:
        return f"<RLock {self._path!r} count={self._count}>"

    def _lock_file(self, deadline: float, fail: bool, wait: float) -> IO[Any]:
        """Open the file and take its flock; poll while someone else has it."""
        handle = self._open()
        try:
            while True:
                try:
                    portalocker.lock(handle, self.flags)
                except portalocker.AlreadyLocked:
                    remaining = deadline - time.monotonic()
                    if fail or remaining <= 0:
                        raise self._busy_error(
                            fail, wait, "another lock object or process"
                        ) from None
                    time.sleep(min(self.check_interval, remaining))
                    continue
                except portalocker.LockException as exc:
                    raise LockError(f"cannot lock {self._path}: {exc}") from exc
                if self._still_at_path(handle):
                    return handle
                # The file was removed or replaced while we waited: lock the one there now.
                handle.close()
                handle = self._open()
        except BaseException:
            handle.close()
            raise

    def _open(self) -> IO[Any]:
        try:
            return open(self._path, self.mode, opener=_private_opener)
        except OSError as exc:
            raise LockError(
                f"cannot open lock file {self._path}: {exc.strerror}; "
                "check that its folder exists and is writable"
            ) from exc

    def _still_at_path(self, handle: IO[Any]) -> bool:
        try:
            at_path = os.stat(self._path)
        except FileNotFoundError:
            return False
        held = os.fstat(handle.fileno())
        return (at_path.st_dev, at_path.st_ino) == (held.st_dev, held.st_ino)

    def _busy_error(self, fail: bool, wait: float, holder: str) -> LockError:
        if fail:
            return LockedError(
                f"{self._path} is locked by {holder}; it is in use, try again once it is released"
            )
        return LockTimeoutError(
            f"waited {wait:g} s for the lock on {self._path}, held by {holder}; "
            "wait longer (timeout=...) or find the holder (e.g. a running daemon worker)"
        )


def _owner_or_thread(owner: Hashable | None) -> Hashable:
    # The Thread object, not its ident: idents are reused once a thread ends, objects are not
    # while the lock refers to them.
    return threading.current_thread() if owner is None else owner
