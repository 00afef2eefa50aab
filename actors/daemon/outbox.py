"""What a worker does about its processes' lifecycle events, off the registry's thread.

The registry calls listeners on its own thread, which must not block, so the listener only
queues the event. A thread here then relays each end to the other workers (``terminated
<pid>``: a work chain there may wait on it) and keeps the worker's status file up to date with
the processes it holds, rewriting it at most every ``STATUS_INTERVAL`` seconds. With a shared
database, ends are also sent to every machine by ``NOTIFY`` (``remote``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import threading
import time
from pathlib import Path

import structlog

from actors.daemon.paths import DaemonPaths
from actors.daemon.status import WorkerStatus
from actors.daemon.wake import Terminated, notify_workers
from actors.registry import LifecycleEvent
from persistence.errors import PersistenceError
from persistence.pg_notify import DatabaseNotifier

log = structlog.get_logger(__name__)

#: Seconds between two rewrites of the status file while the held set keeps changing.
STATUS_INTERVAL = 0.2
#: How long ``stop`` waits for the last relays and the last status write.
STOP_TIMEOUT = 30.0

_STOP = object()


class Outbox:
    """Relays ends to the other workers and rewrites the status file; one thread.

    Args:
        paths: the daemon's files.
        status: this worker's status as it starts (nothing held).
        own_socket: this worker's socket, left out of relays.
    """

    def __init__(
        self,
        paths: DaemonPaths,
        status: WorkerStatus,
        own_socket: Path,
        *,
        remote: DatabaseNotifier | None = None,
    ) -> None:
        self._paths = paths
        self._remote = remote
        self._status = status
        self._own_socket = own_socket
        self._held: set[int] = set(status.held)
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread = threading.Thread(
            target=self._run, name=f"daemon-outbox-{status.index}", daemon=True
        )

    def start(self) -> None:
        """Write the first status and start relaying."""
        self._write_status()
        self._thread.start()

    def on_event(self, event: LifecycleEvent) -> None:
        """The runtime's listener (runs on the registry's thread): queue the event, no more."""
        if event.kind in ("registered", "terminated"):
            self._queue.put(event)

    def stop(self) -> None:
        """Relay what is queued, write the last status, and end the thread."""
        if not self._thread.is_alive():
            return
        self._queue.put(_STOP)
        self._thread.join(STOP_TIMEOUT)

    @property
    def held(self) -> frozenset[int]:
        """The pids this worker holds, as the events so far say."""
        return frozenset(self._held)

    def _run(self) -> None:
        dirty = False
        last_write = time.monotonic()
        stopping = False
        while not stopping:
            timeout = max(0.0, last_write + STATUS_INTERVAL - time.monotonic()) if dirty else None
            items: list[object] = []
            with contextlib.suppress(queue.Empty):
                items.append(self._queue.get(timeout=timeout))
            while True:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for item in items:
                if item is _STOP:
                    stopping = True
                elif isinstance(item, LifecycleEvent):
                    dirty |= self._apply(item)
            if dirty and (stopping or time.monotonic() - last_write >= STATUS_INTERVAL):
                self._write_status()
                dirty = False
                last_write = time.monotonic()

    def _apply(self, event: LifecycleEvent) -> bool:
        """Note the event; relay an end. True if the held set changed."""
        if event.kind == "registered":
            if event.pid in self._held:
                return False
            self._held.add(event.pid)
            return True
        reached = notify_workers(self._paths.home, Terminated(event.pid), exclude=self._own_socket)
        if self._remote is not None:  # workers on other machines (and this one's: ignored)
            self._remote.send(Terminated(event.pid))
        log.debug("worker.relayed_end", pid=event.pid, workers=reached)
        if event.pid not in self._held:
            return False
        self._held.discard(event.pid)
        return True

    def _write_status(self) -> None:
        status = dataclasses.replace(
            self._status, held=tuple(sorted(self._held)), updated=time.time()
        )
        try:
            status.write(self._paths)
        except PersistenceError as exc:
            log.error("worker.status_not_written", error=str(exc))
