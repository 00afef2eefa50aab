"""Real worker OS processes: adopting, noticing submissions, control, ends elsewhere, stopping."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from actors import Runtime
from actors.control import Action
from actors.daemon import Route, request, settings
from actors.daemon.paths import DaemonPaths
from actors.daemon.status import WorkerStatus
from actors.daemon.wake import Terminated, notify_workers
from actors.daemon.workload import CountingChain, Never, WaitsOn
from persistence import InMemoryStore
from provenance import Float, Int, ProcessState, Str
from tests.actors.daemon.helpers import (
    PROCESS_TIMEOUT,
    REPOSITORY,
    ended,
    held_by,
    is_paused,
    spawn_worker,
    state_of,
    stored,
    wait_for,
    workers,
)
from tests.actors.daemon.processes import Marked, marks_of

TIMEOUT = 30.0
#: No safety rescan during a test unless it asks for one: what it checks must come from wakes.
#: A stop that hangs costs 15 s, not the default minute.
NO_RESCAN = ("--rescan-interval", "600", "--shutdown-timeout", "15")


def test_a_worker_adopts_what_was_queued_before_it_started_and_runs_it_to_the_end(
    runtime: Runtime, marks: Path
) -> None:
    pid = runtime.queue_up(Marked, {"x": Int(3), "marks": Str(str(marks))})
    with workers(runtime.home, 1, *NO_RESCAN) as (worker,):
        wait_for(lambda: ended(runtime.home, pid), TIMEOUT, f"the end of {pid}")
        assert state_of(pid) is ProcessState.FINISHED
        assert {os_pid for _step, os_pid in marks_of(marks, pid)} == {worker.os_pid}
        assert [step for step, _os_pid in marks_of(marks, pid)] == list(range(10))


def test_a_submission_wakes_a_running_worker_without_waiting_for_its_rescan(
    runtime: Runtime,
) -> None:
    with workers(runtime.home, 1, *NO_RESCAN):
        pid = runtime.queue_up(CountingChain, {"steps": Int(5)})
        wait_for(lambda: ended(runtime.home, pid), TIMEOUT, f"the end of {pid}")
        assert stored(pid).get_outputs_dict()["total"].value == CountingChain.expected(5)


def _stop_a_worker_during(runtime: Runtime, marks: Path, pid: int, steps_begun: int) -> None:
    """Start a worker, and SIGTERM it once ``pid`` has begun ``steps_begun`` steps."""
    worker = spawn_worker(runtime.home, 0, *NO_RESCAN)
    try:
        wait_for(lambda: len(marks_of(marks, pid)) >= steps_begun, TIMEOUT, "the steps")
        assert worker.terminate() == 0
    finally:
        worker.kill()


@pytest.mark.slow
def test_sigterm_lets_the_step_finish_leaves_the_process_checkpointed_and_exits_0(
    runtime: Runtime, marks: Path
) -> None:
    inputs = {"x": Int(5), "marks": Str(str(marks)), "nap": Float(0.2)}
    pid = runtime.queue_up(Marked, inputs)
    paths = DaemonPaths.of(runtime.home)
    _stop_a_worker_during(runtime, marks, pid, steps_begun=2)
    assert not ended(runtime.home, pid)
    assert (runtime.running_directory / f"{pid}.pickle").exists()
    assert not list(paths.sockets.glob("worker-0.*.sock"))
    assert not paths.worker_status(0).exists()
    done_before = len(marks_of(marks, pid))

    with workers(runtime.home, 1, *NO_RESCAN) as (second,):
        wait_for(lambda: ended(runtime.home, pid), TIMEOUT, f"the end of {pid}")
    steps = marks_of(marks, pid)
    assert [step for step, _os_pid in steps] == list(range(10))  # none ran twice
    assert {os_pid for _step, os_pid in steps[done_before:]} == {second.os_pid}
    expected = runtime.run(Marked, **{**inputs, "nap": Float(0.0), "marks": Str(str(marks))})
    assert stored(pid).get_outputs_dict()["total"].value == expected["total"].value


@pytest.mark.slow
def test_a_step_that_submits_a_child_while_its_worker_stops_is_resumed_not_failed(
    runtime: Runtime, marks: Path
) -> None:
    inputs = {"x": Int(6), "marks": Str(str(marks)), "nap": Float(0.3), "child_at": Int(1)}
    pid = runtime.queue_up(Marked, inputs)
    # Step 1 naps, then submits its child: the stop comes while it naps.
    _stop_a_worker_during(runtime, marks, pid, steps_begun=2)
    assert state_of(pid) is not ProcessState.EXCEPTED, stored(pid).exception
    with workers(runtime.home, 1, *NO_RESCAN):
        wait_for(lambda: ended(runtime.home, pid), TIMEOUT, f"the end of {pid}")
    assert state_of(pid) is ProcessState.FINISHED, stored(pid).exception


def test_pause_and_play_reach_the_worker_holding_the_process(runtime: Runtime, marks: Path) -> None:
    inputs = {"x": Int(1), "marks": Str(str(marks)), "nap": Float(0.05), "steps": Int(200)}
    pid = runtime.queue_up(Marked, inputs)
    with workers(runtime.home, 1, *NO_RESCAN):
        wait_for(lambda: held_by(runtime.home, pid), TIMEOUT, f"a worker holding {pid}")
        assert request(runtime.home, pid, Action.PAUSE).route is Route.SENT
        wait_for(lambda: is_paused(runtime, pid), TIMEOUT, "the pause")
        steps = len(marks_of(marks, pid))
        assert len(marks_of(marks, pid)) <= steps + 1  # a step in progress may still end
        assert state_of(pid) is not ProcessState.FINISHED
        assert request(runtime.home, pid, Action.KILL, "paused too long").route is Route.SENT
        wait_for(lambda: ended(runtime.home, pid), TIMEOUT, f"the end of {pid}")
    node = stored(pid)
    assert node.process_state is ProcessState.KILLED
    assert len(marks_of(marks, pid)) < 200


def test_a_kill_recorded_while_no_worker_runs_is_applied_when_one_adopts_the_process(
    runtime: Runtime, marks: Path
) -> None:
    pid = runtime.queue_up(Marked, {"x": Int(1), "marks": Str(str(marks))})
    assert request(runtime.home, pid, Action.KILL, "changed my mind").route is Route.RECORDED
    with workers(runtime.home, 1, *NO_RESCAN):
        wait_for(lambda: ended(runtime.home, pid), TIMEOUT, f"the end of {pid}")
    node = stored(pid)
    assert node.process_state is ProcessState.KILLED
    assert "changed my mind" in (node.exit_message or "")
    assert marks_of(marks, pid) == []


def _finish_elsewhere(runtime: Runtime, pid: int) -> None:
    """Record that ``pid`` finished, as another worker would have."""
    node = stored(pid)
    update = node.set_process_attributes(process_state=ProcessState.FINISHED.value, exit_status=0)
    runtime.backend.write([update])


def test_a_notice_that_a_process_ended_elsewhere_releases_the_chain_waiting_on_it(
    runtime: Runtime,
) -> None:
    elsewhere = runtime.queue_up(Never, {}, storage=InMemoryStore())
    waiter = runtime.queue_up(WaitsOn, {"on": Int(elsewhere)})
    with workers(runtime.home, 1, *NO_RESCAN):
        wait_for(lambda: state_of(waiter) is ProcessState.WAITING, TIMEOUT, "the wait")
        _finish_elsewhere(runtime, elsewhere)
        assert notify_workers(runtime.home, Terminated(elsewhere)) == 1
        wait_for(lambda: ended(runtime.home, waiter), TIMEOUT, f"the end of {waiter}")
    assert state_of(waiter) is ProcessState.FINISHED


def test_the_rescan_delivers_an_end_whose_notice_was_lost(runtime: Runtime) -> None:
    elsewhere = runtime.queue_up(Never, {}, storage=InMemoryStore())
    waiter = runtime.queue_up(WaitsOn, {"on": Int(elsewhere)})
    with workers(runtime.home, 1, "--rescan-interval", "0.3"):
        wait_for(lambda: state_of(waiter) is ProcessState.WAITING, TIMEOUT, "the wait")
        _finish_elsewhere(runtime, elsewhere)  # and no notice
        wait_for(lambda: ended(runtime.home, waiter), TIMEOUT, f"the end of {waiter}")
    assert state_of(waiter) is ProcessState.FINISHED


def test_a_worker_stops_gracefully_when_its_supervisor_is_gone(tmp_path: Path) -> None:
    reader, writer = os.pipe()
    try:
        worker = spawn_worker(
            tmp_path / "home", 0, "--lifeline-fd", str(reader), pass_fds=(reader,)
        )
    finally:
        os.close(reader)
    os.close(writer)  # the supervisor dies: its end of the lifeline closes
    assert worker.process.wait(PROCESS_TIMEOUT) == 0
    log = DaemonPaths.of(tmp_path / "home").worker_log(0).read_text()
    assert "the supervisor is gone" in log


def test_the_status_file_names_the_worker_and_what_it_holds(runtime: Runtime) -> None:
    elsewhere = runtime.queue_up(Never, {}, storage=InMemoryStore())
    waiter = runtime.queue_up(WaitsOn, {"on": Int(elsewhere)})
    with workers(runtime.home, 1, *NO_RESCAN) as (worker,):
        wait_for(lambda: held_by(runtime.home, waiter), TIMEOUT, "the status naming it")
        status = WorkerStatus.read(DaemonPaths.of(runtime.home).worker_status(0))
        assert status is not None
        assert status.os_pid == worker.os_pid
        assert status.held == (waiter,)


def test_a_worker_that_cannot_open_its_database_exits_1_and_says_why(tmp_path: Path) -> None:
    home = tmp_path / "home"
    completed = subprocess.run(
        settings.command(
            settings.WORKER_MODULE,
            home,
            "--index",
            "0",
            "--database-url",
            "postgresql+psycopg://nobody@127.0.0.1:1/none",
        ),
        cwd=REPOSITORY,
        capture_output=True,
        timeout=PROCESS_TIMEOUT,
        check=False,
    )
    assert completed.returncode == 1
    log = DaemonPaths.of(home).worker_log(0).read_text()
    assert "worker.failed" in log
    assert not list(DaemonPaths.of(home).sockets.glob("worker-0.*.sock"))


def test_sigint_stops_a_worker_like_sigterm(tmp_path: Path) -> None:
    worker = spawn_worker(tmp_path / "home", 0)
    worker.process.send_signal(signal.SIGINT)
    assert worker.process.wait(PROCESS_TIMEOUT) == 0
