"""A daemon whose home is deleted stops, and can never run unseen beside a second one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from actors.daemon import DaemonRunningError, start_daemon, stop_daemon
from actors.daemon.manage import wait_stopped
from actors.daemon.paths import DaemonPaths
from actors.daemon.status import last_stop, process_started, supervisor_running, view
from actors.home_identity import HomeMismatchError, recorded_database
from provenance.storage import sqlite_url
from tests.actors.daemon.helpers import REPOSITORY, wait_for

TIMEOUT = 60.0


def test_the_lock_and_state_live_outside_the_home(daemon_home: Path) -> None:
    state = start_daemon(daemon_home, 1, cwd=REPOSITORY)
    paths = DaemonPaths.of(daemon_home)

    assert not paths.supervisor_lock.is_relative_to(paths.home)
    assert not paths.state_file.is_relative_to(paths.home)
    assert paths.lock_folder.stat().st_mode & 0o777 == 0o700
    assert view(daemon_home).state == state


def test_a_second_daemon_is_refused_after_the_home_of_the_first_was_deleted(
    daemon_home: Path,
) -> None:
    # The first daemon looks at its home only once an hour here, so it is surely still running
    # when the second one tries.
    first = start_daemon(daemon_home, 1, cwd=REPOSITORY, home_check_interval=3_600)
    shutil.rmtree(daemon_home)

    with pytest.raises(DaemonRunningError, match=rf"OS pid {first.os_pid}"):
        start_daemon(daemon_home, 1, cwd=REPOSITORY)
    seen = view(daemon_home)
    assert seen.running
    assert seen.state == first
    assert stop_daemon(daemon_home, TIMEOUT) == first


def test_a_daemon_whose_home_is_deleted_stops_and_says_why(daemon_home: Path) -> None:
    state = start_daemon(daemon_home, 2, cwd=REPOSITORY, shutdown_timeout=5)
    paths = DaemonPaths.of(daemon_home)
    workers = [(worker.os_pid, worker.started) for worker in view(daemon_home).workers]
    assert len(workers) == 2

    shutil.rmtree(daemon_home)

    wait_stopped(paths, TIMEOUT)
    assert not supervisor_running(paths)
    wait_for(lambda: not state.alive, TIMEOUT, "the supervisor's exit")
    for os_pid, started in workers:
        assert process_started(os_pid) != started, f"worker {os_pid} outlived its daemon"
    stopped = last_stop(paths)
    assert stopped is not None
    assert stopped[0] == f"its home {paths.home} was deleted"
    status = view(daemon_home)
    assert not status.running
    assert status.last_stop == stopped


def test_a_daemon_is_not_started_on_a_home_that_belongs_to_another_database(
    daemon_home: Path, tmp_path: Path
) -> None:
    start_daemon(daemon_home, 1, cwd=REPOSITORY)
    stop_daemon(daemon_home, TIMEOUT)
    assert recorded_database(daemon_home) is not None

    with pytest.raises(HomeMismatchError, match=r"belongs to the database sqlite:///"):
        start_daemon(daemon_home, 1, database_url=sqlite_url(tmp_path / "other.sqlite"))
    assert not supervisor_running(DaemonPaths.of(daemon_home))
