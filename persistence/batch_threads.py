"""Running a batch of short blocking calls (fsyncs, renames) together on threads kept for it.

A group write hands each file's fsync-and-move to another thread, so that the file system
serves them with shared journal commits. Through ``concurrent.futures`` every file cost a
``Future`` (a condition, a lock, a notification to wait on): as much of the persistence actor's
CPU as the writes themselves. Here the calls of a batch go on one queue, the threads count the
batch down, and the caller wakes once, when the last one is done.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from queue import SimpleQueue


class _Batch:
    """The calls of one ``run_all`` still running, and what they raised."""

    __slots__ = ("_counting", "_done", "_left", "failures")

    def __init__(self, count: int) -> None:
        self._left = count
        self._counting = threading.Lock()
        # Held until the last call ends: a Lock may be released by another thread.
        self._done = threading.Lock()
        self._done.acquire()
        self.failures: list[tuple[int, BaseException]] = []

    def finished(self, index: int, error: BaseException | None) -> None:
        """Count call ``index`` as done (with ``error``, if it raised one)."""
        with self._counting:
            if error is not None:
                self.failures.append((index, error))
            self._left -= 1
            last = self._left == 0
        if last:
            self._done.release()

    def wait(self) -> None:
        """Return once every call of the batch is done."""
        self._done.acquire()


_Task = tuple[_Batch, int, Callable[[], None]]


class BatchThreads:
    """Up to ``size`` daemon threads, started as batches need them and kept for the next."""

    def __init__(self, size: int, name: str) -> None:
        self._size = size
        self._name = name
        self._starting = threading.Lock()
        self._tasks: SimpleQueue[_Task] = SimpleQueue()
        self._started = 0
        # A forked child has none of these threads: it starts its own.
        os.register_at_fork(after_in_child=self._forget_threads)

    def run_all(self, calls: Mapping[int, Callable[[], None]]) -> list[tuple[int, BaseException]]:
        """Run every call, concurrently, and wait for all; what they raised, by index."""
        if not calls:
            return []
        batch = _Batch(len(calls))
        self._start_threads(min(len(calls), self._size))
        for index, call in calls.items():
            self._tasks.put((batch, index, call))
        batch.wait()
        return sorted(batch.failures, key=lambda failure: failure[0])

    def _start_threads(self, wanted: int) -> None:
        with self._starting:
            while self._started < wanted:
                self._started += 1
                name = f"{self._name}-{self._started}"
                threading.Thread(target=self._serve, name=name, daemon=True).start()

    def _serve(self) -> None:
        while True:
            batch, index, call = self._tasks.get()
            try:
                call()
            except BaseException as exc:  # the caller's to judge: it raises what is no OSError
                batch.finished(index, exc)
            else:
                batch.finished(index, None)

    def _forget_threads(self) -> None:
        self._starting = threading.Lock()
        self._tasks = SimpleQueue()
        self._started = 0
