"""SQLite commits made to survive a crash of the machine, once, before checkpoints name them.

The provenance connection commits with ``synchronous = NORMAL``: a commit is in the WAL file,
which the operating system writes to disk when it chooses (SQLite fsyncs the WAL only before a
checkpoint copies it into the database). Such a commit survives the program being killed, but
not the machine losing power. The engine's order is "provenance committed, then checkpoint
fsynced": a checkpoint on disk that names rows still only in the page cache would, after a
power cut, name rows that never were (a pk reused by another node, a child unknown to its
parent).

``WalDurability.flush`` fsyncs the WAL file once for every commit made before it, and is called
only where a checkpoint is about to be written (``ActorBackend.make_durable``): one fsync per
batch of checkpoints, where ``synchronous = FULL`` would cost one per commit, and none at all in
a program whose processes are not checkpointed (a script's blocking runs).

The WAL is opened read-only and kept open: SQLite takes no lock on it (its locks are on the
database file and the ``-shm`` index), so this descriptor cannot disturb them.
"""

from __future__ import annotations

import contextlib
import os
import threading

from provenance.errors import StorageError


class WalDurability:
    """Counts the commits to the SQLite database at ``database_path`` and makes them durable."""

    def __init__(self, database_path: str) -> None:
        self._wal_path = f"{database_path}-wal"
        #: Commits made (counted by the one writer thread), and how many of them are fsynced.
        self._commits = 0
        self._durable = 0
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._file_id: tuple[int, int] | None = None

    def committed(self) -> None:
        """Count one commit; call it after the commit returned, before anyone is told."""
        self._commits += 1

    @property
    def pending(self) -> int:
        """Commits not yet known to be on disk."""
        return self._commits - self._durable

    def flush(self, *, others_too: bool = False) -> None:
        """Return once every commit counted before this call is on disk (at once if it is);
        with ``others_too``, every commit of any program to this database as well (this one
        counts only its own).

        Raises:
            StorageError: if the WAL could not be fsynced; nothing said durable is.
        """
        target = self._commits
        if self._durable >= target and not others_too:
            return
        with self._lock:
            if self._durable >= target and not others_too:  # another caller's fsync did it
                return
            try:
                self._fsync_wal()
            except OSError as exc:
                raise StorageError(
                    f"could not make the provenance commits durable: fsync of {self._wal_path} "
                    f"failed ({exc}); no checkpoint was written after them"
                ) from exc
            self._durable = max(self._durable, target)

    def close(self) -> None:
        """Close the WAL's descriptor (the writer's connection closed)."""
        with self._lock:
            self._close_fd()

    def _fsync_wal(self) -> None:
        try:
            status = os.stat(self._wal_path)
            if self._fd is None or self._file_id != (status.st_dev, status.st_ino):
                self._close_fd()
                self._fd = os.open(self._wal_path, os.O_RDONLY | os.O_CLOEXEC)
                opened = os.fstat(self._fd)
                self._file_id = (opened.st_dev, opened.st_ino)
        except FileNotFoundError:
            # No WAL: SQLite checkpointed every commit into the database file, fsynced it,
            # and removed the WAL (its last connection closed).
            self._close_fd()
            return
        os.fsync(self._fd)

    def _close_fd(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd = None
        self._file_id = None


__all__ = ["WalDurability"]
