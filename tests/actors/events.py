"""Waiting on a runtime's lifecycle events in tests, without polling."""

from __future__ import annotations

import queue

import pytest

from actors.registry import LifecycleEvent

EVENT_TIMEOUT = 10.0


class Events:
    """Lifecycle events of a runtime, to wait on one without polling."""

    def __init__(self) -> None:
        self._queue: queue.Queue[LifecycleEvent] = queue.Queue()
        self.seen: list[LifecycleEvent] = []

    def __call__(self, event: LifecycleEvent) -> None:
        self._queue.put(event)

    def wait_for(self, pid: int | None, kind: str) -> LifecycleEvent:
        """Block until ``pid`` (None: any) has an event of ``kind``; fail after a timeout."""
        for event in self.seen:
            if event.kind == kind and pid in (None, event.pid):
                return event
        while True:
            try:
                event = self._queue.get(timeout=EVENT_TIMEOUT)
            except queue.Empty:
                pytest.fail(f"no {kind!r} event for process {pid} within {EVENT_TIMEOUT} s")
            self.seen.append(event)
            if event.kind == kind and pid in (None, event.pid):
                return event

    def kinds(self, pid: int) -> list[str]:
        while not self._queue.empty():
            self.seen.append(self._queue.get_nowait())
        return [event.kind for event in self.seen if event.pid == pid]
