"""``stop_daemon`` against a supervisor caught between its lock and its state file.

A supervisor takes its lock just before it writes its state file, and removes that file just
before it releases the lock. A real lock is held here by a child OS process standing in for the
supervisor; the test acts once ``stop_daemon`` has read the state file and found none.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import pytest

from actors.daemon.errors import DaemonError
from actors.daemon.manage import stop_daemon
from actors.daemon.paths import DaemonPaths
from actors.daemon.status import DaemonState, supervisor_running
from actors.os_identity import birth
from persistence.atomic import make_private_directory
from tests.persistence.children import lock_held_by_child

TIMEOUT = 30.0


@pytest.fixture
def paths(home: Path) -> DaemonPaths:
    """The daemon paths of a home, its lock folder made."""
    found = DaemonPaths.of(home)
    make_private_directory(found.lock_folder)
    return found


@pytest.fixture
def state_missing(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Set once ``DaemonState.read`` has found no state file."""
    missing = threading.Event()
    read = DaemonState.read

    def reading(paths: DaemonPaths) -> DaemonState | None:
        found = read(paths)
        if found is None:
            missing.set()
        return found

    monkeypatch.setattr(DaemonState, "read", reading)
    return missing


def _stopping(home: Path) -> Future[DaemonState | None]:
    """``stop_daemon(home)`` running on a thread of its own."""
    outcome: Future[DaemonState | None] = Future()

    def stop() -> None:
        try:
            outcome.set_result(stop_daemon(home, TIMEOUT))
        except BaseException as exc:
            outcome.set_exception(exc)

    threading.Thread(target=stop, daemon=True).start()
    return outcome


def _when(event: threading.Event, act: Callable[[], None]) -> None:
    assert event.wait(TIMEOUT), "stop_daemon never read the state file"
    act()


def test_stopping_a_supervisor_that_is_releasing_its_lock_finds_none_running(
    home: Path, paths: DaemonPaths, state_missing: threading.Event
) -> None:
    with lock_held_by_child(paths.supervisor_lock) as held:
        outcome = _stopping(home)
        _when(state_missing, held.release)
        assert outcome.result(TIMEOUT) is None
    assert not supervisor_running(paths)


def test_stopping_a_supervisor_that_has_not_written_its_state_yet_stops_it(
    home: Path, paths: DaemonPaths, state_missing: threading.Event
) -> None:
    with lock_held_by_child(paths.supervisor_lock) as held:
        os_pid = held.process.pid
        assert os_pid is not None
        starting = DaemonState(os_pid, 0.0, 1, str(paths.home), birth(os_pid))
        outcome = _stopping(home)
        _when(state_missing, lambda: starting.write(paths))
        assert outcome.result(TIMEOUT) == starting
        held.process.join(TIMEOUT)
        assert held.process.exitcode == -signal.SIGTERM
    assert not supervisor_running(paths)


def test_a_lock_held_without_a_state_file_for_longer_than_the_grace_is_an_error(
    home: Path, paths: DaemonPaths
) -> None:
    with (
        lock_held_by_child(paths.supervisor_lock),
        pytest.raises(DaemonError, match="does not name a live supervisor; find it with"),
    ):
        stop_daemon(home, TIMEOUT, state_grace=0.1)
