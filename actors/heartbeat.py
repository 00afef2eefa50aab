"""A runtime's heartbeat: its row in ``wa_runtime`` (``provenance.runtime_rows``), renewed
while it is open, so that a runtime on any machine can tell whether it still runs.

The row is written when the runtime opens (sent to the provenance actor ahead of any process's
write, so no process names a runtime whose row is not committed yet), renewed every
``interval`` seconds by a thread that sleeps on an event in between, and deleted when the
runtime shuts down (after its last write). Renewals go through the provenance actor on SQLite,
whose one writer it is; on PostgreSQL, which takes many writers, on a pooled connection of
their own, so that a long write the actor is busy with cannot hold a renewal back until the
row runs out and the runtime's live processes are taken for abandoned.

Each beat makes the row last ``STALE_BEATS`` intervals: a runtime killed (or whose machine went
down) stops renewing it, and once it runs out the processes it held are ended KILLED by the
next ``repair`` (``actors.holders``), on whatever machine that runs.
"""

from __future__ import annotations

import os
import threading

from actors.errors import ActorError
from provenance.backend import ActorBackend
from provenance.log import get_logger
from provenance.runtime_rows import Beat, Heartbeat, beat_on_own_connection

log = get_logger(__name__)

#: Seconds between two heartbeats of a runtime, unless ``$WORKACTORS_HEARTBEAT_INTERVAL`` or
#: ``Runtime(heartbeat_interval=...)`` says otherwise.
DEFAULT_INTERVAL = 10.0
INTERVAL_ENV = "WORKACTORS_HEARTBEAT_INTERVAL"
#: A runtime's row lasts this many intervals from its last beat: it survives missed beats (a
#: busy database, a pause of its machine) before its processes count as abandoned.
STALE_BEATS = 3
#: Seconds a renewal waits for the provenance actor before it says it was late.
BEAT_TIMEOUT = 60.0


def choose_interval(chosen: float | None = None) -> float:
    """The interval to beat at: ``chosen``, else ``$WORKACTORS_HEARTBEAT_INTERVAL``, else
    ``DEFAULT_INTERVAL``.

    Raises:
        ActorError: if it is not a positive number of seconds.
    """
    raw: object = chosen if chosen is not None else os.environ.get(INTERVAL_ENV, DEFAULT_INTERVAL)
    try:
        interval = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        interval = 0.0
    if not 0 < interval < float("inf"):
        raise ActorError(
            f"the heartbeat interval must be a positive number of seconds, not {raw!r} "
            f"(Runtime(heartbeat_interval=...) or ${INTERVAL_ENV})"
        )
    return interval


class HeartbeatKeeper:
    """Writes, renews and deletes one runtime's row; see the module docstring."""

    def __init__(
        self,
        backend: ActorBackend,
        row: Heartbeat,
        interval: float,
    ) -> None:
        self.interval = interval
        self._backend = backend
        self._row = row
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"runtime-heartbeat-{row.id[:8]}", daemon=True
        )

    def start(self) -> None:
        """Send the row (without waiting: the actor writes it before anything sent later)
        and start renewing it."""
        self._backend.beat(self._beat(Beat.OPEN))
        self._thread.start()

    def stop(self) -> None:
        """Stop renewing and delete the row (sent to the provenance actor, which writes it
        before it stops)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=BEAT_TIMEOUT)
        try:
            self._backend.beat(self._beat(Beat.CLOSE))
        except Exception as exc:  # the actor is gone: the row runs out by itself
            log.warning("runtime.heartbeat_row_left", error=repr(exc))

    def _beat(self, beat: Beat) -> Heartbeat:
        row = self._row
        return Heartbeat(beat, row.id, row.host, row.os_pid, row.home, STALE_BEATS * self.interval)

    def _run(self) -> None:
        storage = self._backend.storage
        beside_the_actor = storage.dialect == "postgresql"
        while not self._stop.wait(self.interval):
            try:
                if beside_the_actor:
                    beat_on_own_connection(storage, self._beat(Beat.RENEW))
                else:
                    self._backend.beat(self._beat(Beat.RENEW), timeout=BEAT_TIMEOUT)
            except Exception as exc:  # a database outage: the next beat tries again
                log.warning("runtime.heartbeat_late", error=repr(exc))


__all__ = [
    "DEFAULT_INTERVAL",
    "INTERVAL_ENV",
    "STALE_BEATS",
    "HeartbeatKeeper",
    "choose_interval",
]
