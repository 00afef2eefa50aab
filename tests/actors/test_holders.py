"""Nothing stays RUNNING forever: a process whose runtime died without ending it is ended KILLED
at the next runtime open on its home (or by ``repair``), while resumable and live ones are not.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

from actors import Runtime
from actors.holders import (
    HOLDER,
    Holder,
    _active_holders_on_sqlite,
    _active_holders_through_sqlalchemy,
    _started,
    _this_process_started,
)
from actors.os_identity import boot_id
from provenance import Calculation, Dict, ProcessNode, ProcessState, WorkCalculation, load_node
from provenance.runtime_rows import RuntimeRow
from tests.actors.daemon.helpers import REPOSITORY, wait_for

STARTED_TIMEOUT = 60.0

#: A script that runs, blockingly, a work chain whose child never ends, and is killed meanwhile.
_STUCK = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    from actors import Process, ProcessStack, Runtime, ToContext, WorkChain

    class Stuck(Process):
        def run(self):
            self.runtime.backend.sync()  # both nodes committed before the kill comes
            Path(sys.argv[2]).write_text(" ".join(map(str, ProcessStack.stack())))
            threading.Event().wait()

    class Parent(WorkChain):
        @classmethod
        def define(cls, spec):
            super().define(spec)
            spec.outline(cls.launch, cls.done)

        def launch(self):
            return ToContext(child=self.submit(Stuck))

        def done(self):
            pass

    with Runtime(sys.argv[1]) as runtime:
        runtime.run(Parent)
    """
)


def _start_stuck(home: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    """Run the stuck chain in a new Python, until both its nodes are committed."""
    started = tmp_path / "started"
    script = subprocess.Popen(
        [sys.executable, "-c", _STUCK, str(home), str(started)],
        cwd=REPOSITORY,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
    )
    try:
        wait_for(started.exists, STARTED_TIMEOUT, "the child's start")
        wait_for(started.read_text, STARTED_TIMEOUT, "the child's pks")
    except BaseException:
        script.kill()
        script.wait(timeout=STARTED_TIMEOUT)
        raise
    return script


def _pks(tmp_path: Path) -> tuple[int, int]:
    parent, child = map(int, (tmp_path / "started").read_text().split())
    return parent, child


def _run_and_kill(home: Path, tmp_path: Path) -> tuple[int, int, int]:
    """Run the stuck chain in a new Python, SIGKILL it mid-run; its OS pid and both pks."""
    script = _start_stuck(home, tmp_path)
    script.send_signal(signal.SIGKILL)
    script.wait(timeout=STARTED_TIMEOUT)
    return script.pid, *_pks(tmp_path)


def test_processes_of_a_killed_runtime_are_ended_killed_at_the_next_open(
    home: Path, tmp_path: Path
) -> None:
    os_pid, parent, child = _run_and_kill(home, tmp_path)

    with Runtime(home) as runtime:
        assert sorted(runtime.repaired) == [parent, child]
        for pk in (parent, child):
            node = load_node(pk)
            assert isinstance(node, ProcessNode)
            assert node.process_state is ProcessState.KILLED
            assert f"OS process {os_pid}" in (node.exit_message or "")
        assert runtime.repair() == []  # once is enough


def test_a_killed_runtime_its_parent_has_not_reaped_yet_is_dead_too(
    home: Path, tmp_path: Path
) -> None:
    # A script launched by a program that has not waited for it yet (busy, or it never does)
    # stays a zombie after kill -9: its pid and start tick are still in /proc, but it is dead.
    script = _start_stuck(home, tmp_path)
    try:
        script.send_signal(signal.SIGKILL)
        os.waitid(os.P_PID, script.pid, os.WEXITED | os.WNOWAIT)

        with Runtime(home) as runtime:
            assert sorted(runtime.repaired) == sorted(_pks(tmp_path))
    finally:
        script.wait(timeout=STARTED_TIMEOUT)


def test_a_process_with_a_running_checkpoint_is_left_to_the_daemon(home: Path) -> None:
    from provenance import Int
    from tests.actors.workchains import Double

    with Runtime(home) as runtime:
        node = runtime.submit(Double, x=Int(2))
        assert runtime.repair() == []
        assert node.process_state is ProcessState.CREATED


def test_the_processes_of_a_live_runtime_are_not_touched(runtime: Runtime) -> None:
    from actors.test_utils import DummyProcess

    _result, node = runtime.run_get_node(DummyProcess)
    holder = Holder.from_attribute(node.attributes[HOLDER])

    assert holder is not None
    assert holder.os_pid == os.getpid()
    assert holder.is_alive() is True
    assert runtime.repair() == []


def test_a_holder_on_another_host_is_judged_by_its_runtime_row_alone() -> None:
    holder = Holder("some-other-host", 1, 0.0, "/nowhere", None, "its-runtime")
    beating = RuntimeRow("its-runtime", "some-other-host", 1, "/nowhere", 0.5, alive=True)

    assert holder.is_alive({"its-runtime": beating}) is True
    assert holder.is_alive({"its-runtime": replace(beating, alive=False)}) is False
    assert holder.is_alive({}) is False  # its runtime deleted its row: it ended
    assert holder.is_alive() is None  # no rows to judge by
    assert replace(holder, runtime=None).is_alive({"its-runtime": beating}) is None


def test_process_repair_ends_the_processes_of_a_killed_runtime_and_names_them(
    home: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from actors.cli import app
    from tests.actors.cli.conftest import PLAIN_ENV

    _os_pid, parent, child = _run_and_kill(home, tmp_path)

    result = CliRunner().invoke(app, ["--home", str(home), "process", "repair"], env=PLAIN_ENV)

    assert result.exit_code == 0, result.output
    assert f"Marked KILLED, their runtime having died: {parent}, {child}" in result.stdout
    with Runtime(home):
        for pk in (parent, child):
            node = load_node(pk)
            assert isinstance(node, ProcessNode)
            assert node.process_state is ProcessState.KILLED
    again = CliRunner().invoke(
        app, ["--home", str(home), "process", "repair", "--json"], env=PLAIN_ENV
    )
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == "[]"


def test_process_kill_ends_a_process_that_nothing_will_ever_run(home: Path) -> None:
    from typer.testing import CliRunner

    from actors.cli import app
    from provenance import Int
    from tests.actors.cli.conftest import PLAIN_ENV
    from tests.actors.workchains import Double

    with Runtime(home) as runtime:
        pid = runtime.queue_up(Double, {"x": Int(1)})
    (home / "running" / f"{pid}.pickle").unlink()  # its checkpoint is lost: no daemon can run it

    result = CliRunner().invoke(
        app, ["--home", str(home), "process", "kill", str(pid)], env=PLAIN_ENV
    )

    assert result.exit_code == 0, result.output
    assert f"Process {pid} killed" in result.stdout
    with Runtime(home):
        node = load_node(pid)
        assert isinstance(node, ProcessNode)
        assert node.process_state is ProcessState.KILLED
        assert "no runtime holds it, and it has no checkpoint" in (node.exit_message or "")


def test_process_kill_names_the_live_program_on_this_host_that_alone_can_kill_it(
    home: Path, tmp_path: Path
) -> None:
    import socket

    from typer.testing import CliRunner

    from actors.cli import app
    from tests.actors.cli.conftest import PLAIN_ENV

    script = _start_stuck(home, tmp_path)
    try:
        _parent, child = _pks(tmp_path)
        result = CliRunner().invoke(
            app, ["--home", str(home), "process", "kill", str(child)], env=PLAIN_ENV
        )
    finally:
        script.kill()
        script.wait(timeout=STARTED_TIMEOUT)

    assert result.exit_code == 1
    said = " ".join(result.stderr.split())
    assert f"OS process {script.pid} on {socket.gethostname()}" in said
    assert "keeps no checkpoints" in said
    assert "heartbeat" not in said  # on this host its OS process tells, at once


def test_this_process_start_time_read_without_psutil_is_the_one_psutil_reads() -> None:
    """A holder's start time is compared with psutil's reading of it (``is_alive``): reading it
    from /proc at runtime open (to spare the psutil import) must give the same number."""
    assert _this_process_started() == _started(os.getpid())
    assert Holder.of_this_process(Path("home")).is_alive() is True


def test_a_live_holder_stays_alive_when_the_wall_clock_is_stepped() -> None:
    """Its start time then reads a second off (``actors.os_identity``); its birth does not, and
    ``repair`` at the next runtime open must not end the processes of a live runtime KILLED."""
    holder = Holder.of_this_process(Path("home"))
    assert Holder.from_attribute(holder.as_attribute()) == holder

    assert replace(holder, started=holder.started - 1.0).is_alive() is True
    assert replace(holder, birth=f"{boot_id()}/0").is_alive() is False


def test_the_active_holders_read_on_the_sqlite_driver_are_those_sqlalchemy_reads(
    runtime: Runtime,
) -> None:
    """A runtime reads them at every open without SQLAlchemy: the same rows, the same values."""
    holders: list[object] = [{"host": "h", "os_pid": 7, "nested": {"a": [1, 2.5, None]}}, "x", 5]
    for state in ProcessState:
        for holder in [*holders, None]:
            for node_class in (Calculation, WorkCalculation):
                node = node_class()
                attributes = {"process_state": state.value}
                if holder is not None:
                    attributes[HOLDER] = holder  # type: ignore[assignment]
                node.set_process_attributes(**attributes)
                node.store()
    Dict({"process_state": "running", HOLDER: "not a process"}).store()
    path = runtime.storage.sqlite_path
    assert path is not None
    on_sqlite = _active_holders_on_sqlite(path)
    assert sorted(on_sqlite, key=lambda row: row[0]) == sorted(
        _active_holders_through_sqlalchemy(runtime.storage), key=lambda row: row[0]
    )
    active = sum(not state.is_terminal for state in ProcessState)
    assert len(on_sqlite) == active * 4 * 2
    assert {str(holder) for _pk, holder in on_sqlite} == {str(h) for h in [*holders, None]}
