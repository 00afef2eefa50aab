"""``workactors daemon ...`` and the process verbs that reach the daemon's processes."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import IO

from actors import ProcessState, Runtime
from actors.control import intent_path
from actors.daemon.paths import DaemonPaths
from persistence.folders import lock_path_of
from provenance import Float, Int, Str
from tests.actors.cli.conftest import Cli
from tests.actors.daemon.helpers import REPOSITORY, ended, held_by, state_of, wait_for
from tests.actors.daemon.processes import Marked
from tests.actors.events import Events
from tests.actors.workchains import AwaitsGated, Double, gate
from tests.persistence.children import lock_held_by_child

TIMEOUT = 60.0


def test_status_of_a_home_without_a_daemon_says_it_is_not_running_and_exits_3(
    cli: Cli, tmp_path: Path
) -> None:
    result = cli("daemon", "status", home=tmp_path / "none")
    assert result.exit_code == 3, result.output
    assert "The daemon is not running" in result.stdout
    result = cli("daemon", "status", "--json", home=tmp_path / "none")
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    assert document["running"] is False
    assert document["workers"] == []


def test_start_status_logs_and_stop_manage_the_daemon_of_a_home(
    cli: Cli, daemon_home: Path
) -> None:
    started = cli("daemon", "start", "--workers", "2", home=daemon_home)
    assert started.exit_code == 0, started.output
    assert "Daemon started on" in started.stdout
    assert "2 worker(s)" in started.stdout

    status = cli("daemon", "status", home=daemon_home)
    assert status.exit_code == 0, status.output
    assert "The daemon is running" in status.stdout
    rows = [
        cells
        for line in status.stdout.splitlines()
        if (cells := line.split())[:1] in (["0"], ["1"])
    ]
    assert [(row[0], row[2]) for row in rows] == [("0", "yes"), ("1", "yes")]
    document = json.loads(cli("daemon", "status", "--json", home=daemon_home).stdout)
    assert document["running"] is True
    assert [worker["alive"] for worker in document["workers"]] == [True, True]

    again = cli("daemon", "start", home=daemon_home)
    assert again.exit_code == 1
    assert "a daemon already runs on" in again.stderr

    logs = cli("daemon", "logs", "-n", "50", home=daemon_home)
    assert logs.exit_code == 0, logs.output
    assert "==> supervisor.log <==" in logs.stdout
    assert "supervisor.ready" in logs.stdout
    assert "==> worker-1.log <==" in logs.stdout

    stopped = cli("daemon", "stop", home=daemon_home)
    assert stopped.exit_code == 0, stopped.output
    assert "Daemon stopped (2 worker(s))" in stopped.stdout
    assert "No daemon runs on" in cli("daemon", "stop", home=daemon_home).stdout


def test_logs_of_a_home_where_no_daemon_ever_ran_is_an_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("daemon", "logs", home=tmp_path / "never")
    assert result.exit_code == 1
    assert "the daemon never ran on this home" in result.stderr


def test_pause_list_and_kill_a_process_the_daemon_runs(
    cli: Cli, daemon_home: Path, tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    assert cli("daemon", "start", home=daemon_home).exit_code == 0
    with Runtime(daemon_home) as runtime:
        inputs = {"x": Int(1), "marks": Str(str(marks)), "nap": Float(0.05), "steps": Int(500)}
        pid = runtime.queue_up(Marked, inputs)
        wait_for(lambda: held_by(daemon_home, pid), TIMEOUT, f"a worker holding {pid}")

        paused = cli("process", "pause", str(pid), home=daemon_home)
        assert paused.exit_code == 0, paused.output
        assert f"Process {pid}: pause sent to the daemon (worker 0 holds it)" in paused.stdout
        wait_for(
            lambda: "(paused)" in cli("process", "list", home=daemon_home).stdout,
            TIMEOUT,
            "process list showing it paused",
        )

        killed = cli("process", "kill", str(pid), "-m", "from outside", home=daemon_home)
        assert killed.exit_code == 0, killed.output
        assert f"Process {pid} killed" in killed.stdout
        assert state_of(pid) is ProcessState.KILLED
        listed = cli("process", "list", home=daemon_home).stdout
        assert "(paused)" not in listed


def test_kill_of_a_queued_process_without_a_daemon_is_recorded_for_later(
    cli: Cli, home: Path
) -> None:
    with Runtime(home) as runtime:
        pid = runtime.queue_up(Double, {"x": Int(1)})
        result = cli("process", "kill", str(pid), home=home)
        assert result.exit_code == 0, result.output
        assert f"Process {pid}: kill recorded" in result.stdout
        assert "no daemon runs on" in result.stdout
        assert intent_path(runtime.running_directory, pid).exists()


def test_a_process_held_by_another_program_cannot_be_paused_from_the_cli(
    cli: Cli, home: Path
) -> None:
    with Runtime(home) as runtime:
        pid = runtime.queue_up(Double, {"x": Int(1)})
        lock = lock_path_of(runtime.running_directory / f"{pid}.pickle")
        with lock_held_by_child(lock):
            result = cli("process", "pause", str(pid), home=home)
    assert result.exit_code == 1
    assert f"process {pid} is CREATED, but process {pid} is held by a program" in result.stderr


def test_pause_and_play_a_process_of_this_python_process(cli: Cli, tmp_path: Path) -> None:
    name = f"gate-{uuid.uuid4().hex[:8]}"
    with Runtime(tmp_path / "live") as runtime:
        events = Events()
        runtime.add_listener(events)
        try:
            process, done = runtime.launch(AwaitsGated, {"gate": Str(name)})
            events.wait_for(process.pid, "passivated")
            result = cli("process", "pause", str(process.pid), home=runtime.home)
            assert result.exit_code == 0, result.output
            assert f"Process {process.pid} paused" in result.stdout
            wait_for(
                lambda: "waiting (paused)" in cli("process", "list", home=runtime.home).stdout,
                TIMEOUT,
                "process list showing it paused",
            )
            result = cli("process", "play", str(process.pid), home=runtime.home)
            assert result.exit_code == 0, result.output
            assert f"Process {process.pid} playing" in result.stdout
        finally:
            gate(name).set()
        assert done.result(timeout=TIMEOUT)["value"].value == 7
        assert "(paused)" not in cli("process", "list", home=runtime.home).stdout


def test_watch_once_prints_the_tree_of_a_work_chain_with_states_and_times(
    cli: Cli, tmp_path: Path
) -> None:
    from tests.actors.workchains import FanOut

    with Runtime(tmp_path / "tree") as runtime:
        _result, node = runtime.run_get_node(FanOut, n=Int(3))
        result = cli("process", "watch", str(node.pk), "--once", home=runtime.home)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["Process", "PK", "State"]
    assert lines[1].split()[:3] == ["FanOut", str(node.pk), "finished"]
    children = lines[2:5]
    assert [line.split()[:2] for line in children] == [["├─", "Double"]] * 2 + [["└─", "Double"]]
    assert all(line.split()[3] == "finished" for line in children)
    assert all(line.split()[-1].endswith("s") for line in lines[1:5])
    assert "4 finished" in result.stdout


def test_watch_of_an_unknown_pk_fails_cleanly(cli: Cli, tmp_path: Path) -> None:
    result = cli("process", "watch", "4242", "--once", home=tmp_path / "empty")
    assert result.exit_code == 1
    assert "no node with pk 4242" in result.stderr


def test_a_foreground_daemon_runs_until_ctrl_c(tmp_path: Path) -> None:
    home = tmp_path / "fg"
    env = {key: value for key, value in os.environ.items() if not key.startswith("WORKACTORS_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "actors.cli",
            "--home",
            str(home),
            "daemon",
            "start",
            "--foreground",
        ],
        cwd=REPOSITORY,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env=env,
    )
    try:
        _read_until(process.stderr, b"Ctrl-C stops it")
        with Runtime(home) as runtime:
            pid = runtime.queue_up(Double, {"x": Int(21)})
            wait_for(lambda: ended(home, pid), TIMEOUT, f"the end of {pid}")
        process.send_signal(signal.SIGINT)
        assert process.wait(TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _read_until(stream: IO[bytes] | None, text: bytes, seen: bytes = b"") -> bytes:
    """Read a child's output until ``text`` appears (select, with a deadline)."""
    assert stream is not None
    deadline = time.monotonic() + TIMEOUT
    while text not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, seen.decode()
        if select.select([stream], [], [], remaining)[0]:
            chunk = os.read(stream.fileno(), 4096)
            assert chunk, seen.decode()
            seen += chunk
    return seen


def test_logs_follow_prints_lines_as_they_are_appended_until_ctrl_c(tmp_path: Path) -> None:
    paths = DaemonPaths.of(tmp_path / "home")
    paths.folder.mkdir(parents=True)
    paths.worker_log(0).write_text("old line\n")
    command = ["actors.cli", "--home", str(paths.home), "daemon", "logs", "-f"]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.ctrl_c", *command],
        cwd=REPOSITORY,
        stdout=subprocess.PIPE,
    )
    try:
        seen = _read_until(process.stdout, b"old line\n")
        with paths.worker_log(0).open("a") as log:
            log.write("new line\n")
        _read_until(process.stdout, b"worker-0: new line\n", seen)
        process.send_signal(signal.SIGINT)
        assert process.wait(TIMEOUT) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _alive_workers(cli: Cli, home: Path) -> list[int]:
    document = json.loads(cli("daemon", "status", "--json", home=home).stdout)
    return [worker["index"] for worker in document["workers"] if worker["alive"]]


def test_incr_and_decr_change_the_worker_count_without_stopping_the_daemon(
    cli: Cli, daemon_home: Path
) -> None:
    assert cli("daemon", "start", "--workers", "1", home=daemon_home).exit_code == 0
    supervisor = json.loads(cli("daemon", "status", "--json", home=daemon_home).stdout)

    grown = cli("daemon", "incr", "2", "--json", home=daemon_home)
    assert grown.exit_code == 0, grown.output
    assert json.loads(grown.stdout) == {
        "workers": 3,
        "was": 1,
        "os_pid": supervisor["supervisor"]["os_pid"],
    }
    assert _alive_workers(cli, daemon_home) == [0, 1, 2]

    shrunk = cli("daemon", "decr", home=daemon_home)
    assert shrunk.exit_code == 0, shrunk.output
    assert "now runs 2 worker(s) (was 3)" in shrunk.stdout
    assert _alive_workers(cli, daemon_home) == [0, 1]
    with Runtime(daemon_home) as runtime:
        pid = runtime.queue_up(Double, {"x": Int(4)})
        wait_for(lambda: ended(daemon_home, pid), TIMEOUT, f"the end of {pid}")
        assert state_of(pid) is ProcessState.FINISHED

    too_few = cli("daemon", "decr", "2", home=daemon_home)
    assert too_few.exit_code == 2
    assert "keeps 1 to 256, not 0" in too_few.stderr
    after = json.loads(cli("daemon", "status", "--json", home=daemon_home).stdout)
    assert after["supervisor"]["os_pid"] == supervisor["supervisor"]["os_pid"]


def test_incr_without_a_daemon_is_an_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("daemon", "incr", home=tmp_path / "none")
    assert result.exit_code == 1
    assert "no daemon runs on" in result.stderr


def test_restart_replaces_the_supervisor_and_keeps_the_worker_count(
    cli: Cli, daemon_home: Path
) -> None:
    fresh = cli("daemon", "restart", home=daemon_home)
    assert fresh.exit_code == 0, fresh.output
    assert "Daemon started (none was running)" in fresh.stdout
    assert cli("daemon", "incr", home=daemon_home).exit_code == 0
    before = json.loads(cli("daemon", "status", "--json", home=daemon_home).stdout)

    restarted = cli("daemon", "restart", home=daemon_home)

    assert restarted.exit_code == 0, restarted.output
    assert "Daemon restarted" in restarted.stdout
    after = json.loads(cli("daemon", "status", "--json", home=daemon_home).stdout)
    assert after["supervisor"]["os_pid"] != before["supervisor"]["os_pid"]
    assert [worker["alive"] for worker in after["workers"]] == [True, True]


def test_logs_json_gives_each_log_with_its_last_lines(cli: Cli, tmp_path: Path) -> None:
    paths = DaemonPaths.of(tmp_path / "home")
    paths.folder.mkdir(parents=True)
    paths.supervisor_log.write_text("one\ntwo\nthree\n")
    paths.worker_log(0).write_text("w\n")

    result = cli("daemon", "logs", "-n", "2", "--json", home=paths.home)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "logs": [
            {"name": "supervisor", "path": str(paths.supervisor_log), "lines": ["two", "three"]},
            {"name": "worker-0", "path": str(paths.worker_log(0)), "lines": ["w"]},
        ]
    }
