"""The worker's outbox: ends relayed to the other workers, the status file kept current."""

from __future__ import annotations

import os
import select
from pathlib import Path

from actors.daemon.outbox import Outbox
from actors.daemon.paths import DaemonPaths
from actors.daemon.status import WorkerStatus, process_started
from actors.daemon.wake import Inbox, Terminated
from actors.registry import LifecycleEvent
from persistence.atomic import make_private_directory
from provenance import ProcessState
from tests.actors.daemon.helpers import wait_for


def _status() -> WorkerStatus:
    me = os.getpid()
    return WorkerStatus(0, me, process_started(me) or 0.0)


def test_an_end_is_relayed_to_the_other_workers_but_not_to_its_own(tmp_path: Path) -> None:
    paths = DaemonPaths.of(tmp_path)
    make_private_directory(paths.folder)
    with Inbox(paths, 0) as own, Inbox(paths, 1) as other:
        outbox = Outbox(paths, _status(), own.path)
        outbox.start()
        try:
            outbox.on_event(LifecycleEvent(4, "registered"))
            outbox.on_event(LifecycleEvent(4, "terminated", ProcessState.FINISHED))
            assert select.select([other], [], [], 10)[0]
            assert other.drain() == [Terminated(4)]
        finally:
            outbox.stop()
        assert own.drain() == []


def test_the_status_file_follows_the_processes_held_and_ends_empty(tmp_path: Path) -> None:
    paths = DaemonPaths.of(tmp_path)
    make_private_directory(paths.folder)
    outbox = Outbox(paths, _status(), tmp_path / "none.sock")
    outbox.start()

    def held() -> tuple[int, ...] | None:
        status = WorkerStatus.read(paths.worker_status(0))
        return status.held if status is not None else None

    try:
        assert held() == ()
        for pid in (3, 5, 7):
            outbox.on_event(LifecycleEvent(pid, "registered"))
        outbox.on_event(LifecycleEvent(5, "passivated"))  # still held
        wait_for(lambda: held() == (3, 5, 7), 10, "the status listing 3, 5 and 7")
        outbox.on_event(LifecycleEvent(5, "terminated", ProcessState.KILLED))
        wait_for(lambda: held() == (3, 7), 10, "the status dropping 5")
    finally:
        outbox.stop()
    assert outbox.held == frozenset({3, 7})
