"""The lease keeper: one thread per ``PostgresStore`` that renews its claims and its heartbeat.

Every third of the lease it extends the store's lease, its row in ``wa_worker`` (host, OS pid,
heartbeat, lease), which covers all its claims, and finds out which claims it no longer has
(another worker claimed the process after our lease ran out: we were stopped, cut off or too
slow). Those are no longer held, logged and reported to ``on_lease_lost``; the store keeps
their epoch, so any write still made for them is fenced with it and refused. It also clears
the rows of workers whose lease ran out three leases ago (their claims were claimable since
their lease ran out).

The keeper never busy-polls: it sleeps on an event between renewals, and it runs only while the
store has held something.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import TYPE_CHECKING, Any

import psycopg

from provenance.log import get_logger

if TYPE_CHECKING:
    from persistence.postgres_store import PostgresStore

log = get_logger(__name__)

#: Renewals per lease: a claim survives two missed renewals.
RENEWALS_PER_LEASE = 3
#: Heartbeats a worker row may miss before any keeper clears it.
STALE_WORKER_LEASES = 3


class LeaseKeeper:
    """Renews the leases of one store on a thread of its own; see the module docstring."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def ensure_running(self) -> None:
        """Start the thread unless it runs (called whenever the store claims something)."""
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            self._thread = threading.Thread(
                target=self._run, name=f"lease-keeper-{self._store.owner}", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop renewing and remove this worker's row; waits for the thread."""
        with self._lock:
            self._stop.set()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=10)
            if self._store.worker is not None:
                self._forget_worker()

    def renew_now(self) -> list[int]:
        """Renew the lease at once; the pids whose claims were found lost.

        Only the store's row of ``wa_worker`` is written; its claims are read without locks.
        A claim is lost when its row is still running but names another owner or epoch.
        """
        store = self._store
        claims = store.held_claims()
        host, os_pid, home = store.worker or (socket.gethostname(), os.getpid(), "")
        params: dict[str, Any] = {
            "owner": store.owner,
            "lease": store.lease,
            "host": host,
            "os_pid": os_pid,
            "home": home,
            "stale": STALE_WORKER_LEASES * store.lease,
            "pids": list(claims),
        }
        with store.connection() as connection:
            connection.execute(
                "INSERT INTO wa_worker (id, host, os_pid, home, started, heartbeat, lease_expires) "
                "VALUES (%(owner)s, %(host)s, %(os_pid)s, %(home)s, now(), now(), "
                "now() + make_interval(secs => %(lease)s)) ON CONFLICT (id) DO UPDATE SET "
                "heartbeat = now(), lease_expires = EXCLUDED.lease_expires",
                params,
            )
            connection.execute(
                "DELETE FROM wa_worker WHERE lease_expires < now() - make_interval(secs => "
                "%(stale)s)",
                params,
            )
            rows = connection.execute(
                "SELECT pid, owner, epoch FROM wa_checkpoint WHERE pid = ANY(%(pids)s) "
                "AND status = 'running'",
                params,
            ).fetchall()
        lost = [
            int(pid)
            for pid, owner, epoch in rows
            if owner is not None and (owner != store.owner or int(epoch) != claims[int(pid)])
        ]
        return [pid for pid in lost if store.forget_lost(pid, claims[pid])]

    def _run(self) -> None:
        interval = self._store.lease / RENEWALS_PER_LEASE
        while not self._stop.is_set():
            try:
                lost = self.renew_now()
                self._store.retry_releases()
            except psycopg.Error as exc:  # the server restarts: the next renewal tries again
                log.warning("persistence.lease_renewal_failed", error=str(exc)[:200])
                self._stop.wait(interval)
                continue
            except Exception as exc:  # the pool closed under us: the store is closing
                log.warning("persistence.lease_keeper_stopped", error=repr(exc))
                return
            for pid in lost:
                log.warning("persistence.lease_lost", pid=pid, owner=self._store.owner)
                hook = self._store.on_lease_lost
                if hook is not None:
                    try:
                        hook(pid)
                    except Exception as exc:
                        log.error("persistence.on_lease_lost_failed", pid=pid, error=repr(exc))
            self._stop.wait(interval)

    def _forget_worker(self) -> None:
        try:
            with self._store.connection() as connection:
                connection.execute("DELETE FROM wa_worker WHERE id = %s", (self._store.owner,))
        except Exception as exc:  # its heartbeat ages out
            log.warning("persistence.worker_row_left", error=repr(exc))


def workers_of(url: str) -> list[dict[str, Any]]:
    """Every worker with a live lease on the database ``url``, on any machine: id, host, OS
    pid, home, last heartbeat (seconds since the epoch) and how many processes it holds.

    Raises:
        psycopg.Error: if the database cannot be reached.
    """
    from persistence.pg_connection import conninfo_of

    with psycopg.connect(conninfo_of(url)) as connection:
        rows = connection.execute(
            "SELECT w.id, w.host, w.os_pid, w.home, extract(epoch FROM w.heartbeat), "
            "(SELECT count(*) FROM wa_checkpoint AS c WHERE c.owner = w.id AND "
            "c.status = 'running') FROM wa_worker AS w WHERE w.lease_expires > now() "
            "ORDER BY w.host, w.home, w.os_pid"
        ).fetchall()
    keys = ("id", "host", "os_pid", "home", "heartbeat", "claims")
    return [
        dict(zip(keys, (str(a), str(b), int(c), str(d), float(e), int(f)), strict=True))
        for a, b, c, d, e, f in rows
    ]
