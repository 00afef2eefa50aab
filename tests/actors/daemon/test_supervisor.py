"""The supervisor as the CLI starts it: one per home, workers kept alive, a graceful stop."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from actors import Runtime
from actors.assembly import STORE_ENV
from actors.daemon import (
    DaemonRunningError,
    DaemonStartError,
    start_daemon,
    stop_daemon,
    view,
)
from actors.daemon.manage import wait_stopped
from actors.daemon.paths import DaemonPaths
from actors.daemon.status import live_workers, supervisor_running
from actors.daemon.workload import CountingChain
from provenance import Float, Int, ProcessState, Str
from tests.actors.daemon.helpers import REPOSITORY, ended, held_by, state_of, stored, wait_for
from tests.actors.daemon.processes import Marked, marks_of

TIMEOUT = 60.0


def test_a_started_daemon_runs_its_workers_until_stopped_and_leaves_nothing_behind(
    daemon_home: Path,
) -> None:
    state = start_daemon(daemon_home, 2, cwd=REPOSITORY)
    paths = DaemonPaths.of(daemon_home)
    assert state.alive
    assert state.workers == 2
    seen = view(daemon_home)
    assert seen.running
    assert [(worker.index, worker.alive) for worker in seen.workers] == [(0, True), (1, True)]
    assert {worker.supervisor_pid for worker in seen.workers} == {state.os_pid}

    assert stop_daemon(daemon_home) == state

    assert not supervisor_running(paths)
    assert not paths.state_file.exists()
    assert paths.worker_statuses() == []
    assert not list(paths.sockets.glob("*.sock"))
    assert stop_daemon(daemon_home) is None


def test_a_second_daemon_on_the_same_home_is_refused_with_the_first_ones_pid(
    daemon_home: Path,
) -> None:
    state = start_daemon(daemon_home, 1, cwd=REPOSITORY)
    with pytest.raises(DaemonRunningError, match=rf"already runs on .*OS pid {state.os_pid}"):
        start_daemon(daemon_home, 1, cwd=REPOSITORY)
    assert view(daemon_home).running


def test_a_daemon_whose_database_cannot_be_used_fails_to_start_and_says_why(
    daemon_home: Path,
) -> None:
    with pytest.raises(DaemonStartError, match=r"(?s)cannot use the database.*127\.0\.0\.1:1"):
        start_daemon(daemon_home, 1, database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert not supervisor_running(DaemonPaths.of(daemon_home))


def test_a_daemon_whose_worker_cannot_start_fails_to_start_and_says_where_to_look(
    daemon_home: Path,
) -> None:
    daemon_home.mkdir()
    (daemon_home / "running").write_text("a file where the checkpoints' folder should be")
    with pytest.raises(DaemonStartError, match=r"worker 0 exited with status 1 before it was"):
        start_daemon(daemon_home, 1, cwd=REPOSITORY)
    assert not supervisor_running(DaemonPaths.of(daemon_home))
    assert "worker.failed" in DaemonPaths.of(daemon_home).worker_log(0).read_text()


@pytest.mark.slow
def test_a_worker_killed_with_sigkill_is_replaced_and_its_process_resumed(
    daemon_home: Path, marks: Path
) -> None:
    inputs = {"x": Int(2), "marks": Str(str(marks)), "nap": Float(0.1)}
    start_daemon(daemon_home, 1, cwd=REPOSITORY)
    with Runtime(daemon_home) as runtime:
        pid = runtime.queue_up(Marked, inputs)
        wait_for(lambda: len(marks_of(marks, pid)) >= 3, TIMEOUT, "three steps")
        victim = held_by(daemon_home, pid)
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: ended(daemon_home, pid), TIMEOUT, f"the end of {pid}")
        node = stored(pid)
        assert node.process_state is ProcessState.FINISHED
        expected = runtime.run(Marked, **{**inputs, "nap": Float(0.0)})
        assert node.get_outputs_dict()["total"].value == expected["total"].value
    workers = live_workers(DaemonPaths.of(daemon_home))
    assert [worker.index for worker in workers] == [0]
    assert workers[0].os_pid != victim
    steps = [step for step, _os_pid in marks_of(marks, pid)]
    assert sorted(set(steps)) == list(range(10))


@pytest.mark.slow
def test_workers_stop_when_the_supervisor_is_killed_and_a_new_start_resumes_their_work(
    daemon_home: Path, marks: Path
) -> None:
    inputs = {"x": Int(4), "marks": Str(str(marks)), "nap": Float(0.1)}
    state = start_daemon(daemon_home, 1, cwd=REPOSITORY)
    paths = DaemonPaths.of(daemon_home)
    with Runtime(daemon_home) as runtime:
        pid = runtime.queue_up(Marked, inputs)
        wait_for(lambda: len(marks_of(marks, pid)) >= 2, TIMEOUT, "two steps")
        os.kill(state.os_pid, signal.SIGKILL)
        wait_stopped(paths, TIMEOUT)
        wait_for(lambda: not live_workers(paths), TIMEOUT, "the orphaned worker stopping")
        assert state_of(pid) is not ProcessState.FINISHED

        again = start_daemon(daemon_home, 1, cwd=REPOSITORY)
        wait_for(lambda: ended(daemon_home, pid), TIMEOUT, f"the end of {pid}")
        assert state_of(pid) is ProcessState.FINISHED
    workers = view(daemon_home).workers
    assert [(worker.index, worker.supervisor_pid) for worker in workers] == [(0, again.os_pid)]


@pytest.mark.postgres
@pytest.mark.parametrize("store", ["database", "files"])
def test_a_daemon_on_postgresql_runs_what_was_submitted(
    daemon_home: Path, postgres_url: str, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checkpoints in the database (the default with PostgreSQL) or kept in the home's files."""
    monkeypatch.setenv(STORE_ENV, store)
    start_daemon(daemon_home, 2, database_url=postgres_url, cwd=REPOSITORY)
    with Runtime(daemon_home, database_url=postgres_url) as runtime:
        inputs = [{"steps": Int(5), "start": Int(n)} for n in range(6)]
        pids = [runtime.queue_up(CountingChain, each) for each in inputs]

        def all_ended() -> bool:
            return all((state := state_of(pid)) is not None and state.is_terminal for pid in pids)

        wait_for(all_ended, TIMEOUT, "the end of the chains")
        totals = [stored(pid).get_outputs_dict()["total"].value for pid in pids]
    assert totals == [CountingChain.expected(5, n) for n in range(6)]
    if store == "files":
        # A checkpoint is retired after its process's end is committed: wait for the moves.
        wait_for(lambda: ended(daemon_home, *pids), TIMEOUT, "the checkpoints retired")
    else:
        assert not ended(daemon_home, *pids)  # nothing of it in the home's files
