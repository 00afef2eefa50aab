"""The daemon's view of a shared (PostgreSQL) database: the workers of every machine and the
checkpoints no live worker holds, read from its tables.

With a shared database the checkpoints are rows, not files in ``<home>/running``: whoever shows
the daemon (``daemon status``, the dashboard) reads the queue here instead of the folder.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from actors.assembly import database_store_in_use

if TYPE_CHECKING:
    from actors.daemon.status import DaemonView
    from persistence.pg_queue import QueuedCheckpoint


@dataclass(frozen=True, slots=True)
class SharedQueue:
    """Every machine's workers (host, OS pid, home, claims, heartbeat) and the waiting rows."""

    workers: list[dict[str, Any]]
    waiting: list[QueuedCheckpoint]

    def applied_to(self, seen: DaemonView) -> DaemonView:
        """``seen`` (this home's daemon) with the database's waiting checkpoints."""
        return dataclasses.replace(seen, unheld_checkpoints=tuple(row.pid for row in self.waiting))


def shared_queue(url: str | None) -> SharedQueue | None:
    """The queue of the shared database at ``url``; None if ``url`` names none.

    Raises:
        psycopg.Error: if the database cannot be read.
    """
    if not url or not database_store_in_use(url):
        return None
    from persistence.leases import workers_of  # psycopg: only for a shared database
    from persistence.pg_queue import waiting

    return SharedQueue(workers_of(url), waiting(url))
