"""Control from outside: a request reaches the worker holding a process, or waits as an intent."""

from __future__ import annotations

import select

import msgpack
import pytest

from actors import Runtime
from actors.control import Action, Intent, intent_path, take_intent
from actors.daemon import ControlError, Route, request
from actors.daemon.paths import DaemonPaths
from actors.daemon.wake import ControlRequest, Inbox
from persistence.folders import lock_path_of
from provenance import Int
from tests.actors.workchains import Double
from tests.persistence.children import lock_held_by_child


def _queued(runtime: Runtime) -> int:
    return int(runtime.queue_up(Double, {"x": Int(1)}))


def test_a_process_with_no_checkpoint_cannot_be_controlled_from_outside(
    runtime: Runtime,
) -> None:
    with pytest.raises(ControlError, match=r"process 999 has no checkpoint in .*running"):
        request(runtime.home, 999, Action.PAUSE)


def test_a_request_for_a_process_no_one_holds_is_recorded_as_its_intent(
    runtime: Runtime,
) -> None:
    pid = _queued(runtime)

    delivery = request(runtime.home, pid, Action.KILL, "not needed")

    assert delivery.route is Route.RECORDED
    assert delivery.workers == 0
    path = intent_path(runtime.running_directory, pid)
    assert msgpack.unpackb(path.read_bytes()) == {
        "v": 1,
        "type": "intent",
        "action": "kill",
        "message": "not needed",
    }
    assert path.stat().st_mode & 0o777 == 0o600
    assert take_intent(runtime.running_directory, pid) == Intent(Action.KILL, "not needed")


def test_the_last_request_recorded_for_a_waiting_process_is_the_one_applied(
    runtime: Runtime,
) -> None:
    pid = _queued(runtime)
    request(runtime.home, pid, Action.PAUSE)
    request(runtime.home, pid, Action.PLAY)
    assert take_intent(runtime.running_directory, pid) == Intent(Action.PLAY)


def test_a_recorded_request_wakes_the_workers_so_that_one_adopts_and_applies_it(
    runtime: Runtime,
) -> None:
    pid = _queued(runtime)
    with Inbox(DaemonPaths.of(runtime.home), 0) as inbox:
        delivery = request(runtime.home, pid, Action.PAUSE)
        assert delivery.route is Route.RECORDED
        assert delivery.workers == 1
        assert select.select([inbox], [], [], 10)[0]


def test_a_request_for_a_held_process_goes_to_the_workers(runtime: Runtime) -> None:
    pid = _queued(runtime)
    lock = lock_path_of(runtime.running_directory / f"{pid}.pickle")
    with lock_held_by_child(lock), Inbox(DaemonPaths.of(runtime.home), 0) as inbox:
        delivery = request(runtime.home, pid, Action.KILL, "now", lock_wait=0.05)
        assert delivery.route is Route.SENT
        assert delivery.workers == 1
        assert select.select([inbox], [], [], 10)[0]
        assert inbox.drain() == [ControlRequest(Action.KILL, pid, "now")]
    assert not intent_path(runtime.running_directory, pid).exists()


def test_a_process_held_by_a_program_that_is_not_the_daemon_cannot_be_reached(
    runtime: Runtime,
) -> None:
    pid = _queued(runtime)
    lock = lock_path_of(runtime.running_directory / f"{pid}.pickle")
    with (
        lock_held_by_child(lock),
        pytest.raises(ControlError, match="held by a program other than the daemon"),
    ):
        request(runtime.home, pid, Action.PAUSE, lock_wait=0.05)


def test_a_lock_held_for_a_moment_by_no_worker_is_waited_for_and_the_intent_recorded(
    runtime: Runtime,
) -> None:
    pid = _queued(runtime)
    lock = lock_path_of(runtime.running_directory / f"{pid}.pickle")
    with lock_held_by_child(lock) as held:
        held.release()  # a submitter that finishes writing the first checkpoint
        delivery = request(runtime.home, pid, Action.PAUSE, lock_wait=10)
    assert delivery.route is Route.RECORDED
    assert take_intent(runtime.running_directory, pid) == Intent(Action.PAUSE)
