"""Threads kept for reuse by process actors.

pykka gives every actor a new thread. A process lives for about a millisecond, and starting and
ending its thread cost a sixth of that, so process actors run their loops on threads that, once
an actor has stopped, wait for the next one. At most ``IDLE_LIMIT`` wait; more end.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
from collections.abc import Callable

from actors.errors import ActorError
from provenance.log import get_logger

log = get_logger(__name__)

#: Idle threads kept: enough for the bursts of children a fan-out starts.
IDLE_LIMIT = 64
#: Sets ``ROOM``: raise it for steps that mostly wait on I/O (each holds its thread meanwhile).
BUSY_THREADS_ENV = "WORKACTORS_BUSY_THREADS"
DEFAULT_ROOM = 48


def room_from_environment() -> int:
    """``$WORKACTORS_BUSY_THREADS``, else ``DEFAULT_ROOM``.

    Raises:
        ActorError: if it is not a whole number of at least 1.
    """
    text = os.environ.get(BUSY_THREADS_ENV, "").strip()
    if not text:
        return DEFAULT_ROOM
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ActorError(
            f"{BUSY_THREADS_ENV}={text!r} is not a number of threads; give a whole number of "
            f"at least 1 (the default is {DEFAULT_ROOM})"
        )
    return value


#: Busy threads above which a launch that does not wait for its process waits for room
#: (briefly): from a loop of user code, a step submitting children, an adoption.
ROOM = room_from_environment()
#: The longest such a wait lasts: backpressure must never turn into a deadlock.
ROOM_TIMEOUT = 0.1

_names = itertools.count(1)


class _Worker:
    """One daemon thread that runs the tasks handed to it, one at a time."""

    def __init__(self, pool: ReusableThreads) -> None:
        self._pool = pool
        self._tasks: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._loop, name=f"{pool.name}-{next(_names)}", daemon=True
        )

    def start(self, task: Callable[[], None]) -> None:
        self._tasks.put(task)
        self._thread.start()

    def give(self, task: Callable[[], None]) -> None:
        self._tasks.put(task)

    def _loop(self) -> None:
        while True:
            task = self._tasks.get()
            try:
                task()
            except BaseException as exc:  # an actor loop handles its own errors; log the rest
                log.error("threads.task_failed", thread=self._thread.name, error=repr(exc))
            if not self._pool._park(self):
                return


class ReusableThreads:
    """Runs each task on an idle thread, or on a new one if none is idle."""

    def __init__(self, name: str, idle_limit: int = IDLE_LIMIT) -> None:
        self.name = name
        self._idle_limit = idle_limit
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._parked = threading.Condition(self._lock)
        self._busy = 0

    def run(self, task: Callable[[], None]) -> None:
        """Run ``task`` on a thread of its own until it returns."""
        with self._lock:
            worker = self._idle.pop() if self._idle else None
            self._busy += 1
        if worker is None:
            _Worker(self).start(task)
        else:
            worker.give(task)

    @property
    def idle(self) -> int:
        """Threads waiting for a task."""
        with self._lock:
            return len(self._idle)

    @property
    def busy(self) -> int:
        """Threads running a task."""
        with self._lock:
            return self._busy

    def wait_for_room(self, limit: int, timeout: float) -> bool:
        """Wait until fewer than ``limit`` threads are busy, at most ``timeout`` seconds.

        Backpressure, not a hard limit: a caller that launches many processes from one step
        lets the ones already running get to their first wait (where they stop holding a
        thread), so threads stay bounded. The timeout keeps it from ever becoming a deadlock.
        """
        with self._parked:
            return self._parked.wait_for(lambda: self._busy < limit, timeout)

    def wait_idle(self, count: int, timeout: float) -> bool:
        """Wait until at least ``count`` threads are idle; False on timeout."""
        with self._parked:
            return self._parked.wait_for(lambda: len(self._idle) >= count, timeout)

    def _park(self, worker: _Worker) -> bool:
        """Keep ``worker`` for the next task; False if enough are kept already (it ends)."""
        with self._parked:
            self._busy -= 1
            self._parked.notify_all()
            if len(self._idle) >= self._idle_limit:
                return False
            self._idle.append(worker)
            return True


#: The threads every process actor runs on, in this Python process.
THREADS = ReusableThreads("ProcessActor")
