"""A process held by a runtime on another machine (several machines sharing one database) is
judged by that runtime's heartbeat: once its row ran out (the runtime was killed, its machine
lost) ``process repair`` and ``process kill`` end it KILLED; while it beats it is left alone,
and ``process kill`` names the program that runs it.

"Another machine" is real here: the runtime runs in a Python whose host name is another one
(``unshare --uts``, a UTS namespace of its own), on the same database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from actors import Runtime
from actors.cli import app
from actors.holders import HOLDER, Holder
from provenance import Calculation, ProcessNode, ProcessState
from provenance.runtime_rows import Beat, Heartbeat, runtime_rows
from provenance.storage import Storage
from tests.actors.cli.conftest import PLAIN_ENV
from tests.actors.daemon.helpers import REPOSITORY, wait_for

OTHER_HOST = "another-machine"
STARTED_TIMEOUT = 60.0
#: Heartbeats of a runtime that the test kills: its row runs out within a second.
SHORT_INTERVAL = 0.2
#: Heartbeats of a runtime the test keeps alive: however busy the machine, its row holds.
LONG_INTERVAL = 20.0

#: A program on "another machine" that runs, blockingly, a process that never ends; it says
#: the process's pk and its runtime's id once the node is committed.
_STUCK = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path
    from actors import Process, Runtime

    class Stuck(Process):
        def run(self):
            self.runtime.backend.sync()
            said = Path(sys.argv[2] + ".part")
            said.write_text(f"{self.node.pk} {self.runtime.runtime_id}")
            said.rename(sys.argv[2])
            threading.Event().wait()

    with Runtime(sys.argv[1], database_url=sys.argv[3]) as runtime:
        runtime.run(Stuck)
    """
)


class Elsewhere:
    """The stuck program, running on another host; ``kill`` kills it with SIGKILL."""

    def __init__(self, home: Path, url: str, tmp_path: Path, interval: float) -> None:
        started = tmp_path / "started"
        self.script = subprocess.Popen(
            [
                "unshare",
                "--map-root-user",  # so that no privilege is needed for the UTS namespace
                "--uts",
                "sh",
                "-c",
                f'hostname {OTHER_HOST} && exec "$0" "$@"',
                sys.executable,
                "-c",
                _STUCK,
                str(home),
                str(started),
                url,
            ],
            cwd=REPOSITORY,
            env={
                **os.environ,
                "PYTHONPATH": str(REPOSITORY),
                "WORKACTORS_HEARTBEAT_INTERVAL": str(interval),
            },
        )
        try:
            said = wait_for(
                lambda: self._said(started), STARTED_TIMEOUT, "the start on the other host"
            )
        except BaseException:
            self.kill()
            raise
        pk, runtime_id = str(said).split()
        self.pk, self.runtime_id, self.url = int(pk), runtime_id, url

    def _said(self, started: Path) -> str | None:
        if started.exists():
            return started.read_text()
        code = self.script.poll()
        assert code is None, f"the program on the other host exited with {code}"
        return None

    def kill(self) -> None:
        self.script.send_signal(signal.SIGKILL)
        self.script.wait(timeout=STARTED_TIMEOUT)

    def wait_until_its_heartbeat_ran_out(self) -> None:
        storage = Storage(self.url)
        try:
            wait_for(
                lambda: not runtime_rows(storage)[self.runtime_id].alive,
                STARTED_TIMEOUT,
                "the end of the killed runtime's heartbeat",
            )
        finally:
            storage.dispose()


@pytest.fixture
def killed_elsewhere(home: Path, home_database_url: str, tmp_path: Path) -> Elsewhere:
    """The stuck program on another host, killed with SIGKILL, its heartbeat run out."""
    program = Elsewhere(home, home_database_url, tmp_path, SHORT_INTERVAL)
    program.kill()
    program.wait_until_its_heartbeat_ran_out()
    return program


@pytest.fixture
def alive_elsewhere(home: Path, home_database_url: str, tmp_path: Path) -> Iterator[Elsewhere]:
    """The stuck program on another host, beating; killed after the test."""
    program = Elsewhere(home, home_database_url, tmp_path, LONG_INTERVAL)
    try:
        yield program
    finally:
        program.kill()


def _cli(home: Path, url: str, *args: str) -> object:
    return CliRunner().invoke(
        app, ["--home", str(home), "--database-url", url, "process", *args], env=PLAIN_ENV
    )


def _state(home: Path, url: str, pk: int) -> tuple[ProcessState | None, str]:
    with Runtime(home, database_url=url) as runtime:
        node = runtime.load_node(pk)
        assert isinstance(node, ProcessNode)
        return node.process_state, node.exit_message or ""


# A runtime killed on another host.


def test_repair_ends_killed_the_process_of_a_runtime_killed_on_another_host(
    home: Path, killed_elsewhere: Elsewhere
) -> None:
    result = _cli(home, killed_elsewhere.url, "repair")

    assert result.exit_code == 0, result.output
    assert f"Marked KILLED, their runtime having died: {killed_elsewhere.pk}" in result.stdout
    state, why = _state(home, killed_elsewhere.url, killed_elsewhere.pk)
    assert state is ProcessState.KILLED
    assert f"on {OTHER_HOST}) ended without ending it" in why


def test_process_kill_marks_killed_the_process_of_a_runtime_killed_on_another_host(
    home: Path, killed_elsewhere: Elsewhere
) -> None:
    result = _cli(home, killed_elsewhere.url, "kill", str(killed_elsewhere.pk))

    assert result.exit_code == 0, result.output
    assert f"Process {killed_elsewhere.pk} killed" in result.stdout
    state, why = _state(home, killed_elsewhere.url, killed_elsewhere.pk)
    assert state is ProcessState.KILLED  # by the repair of the runtime the command opens
    assert f"on {OTHER_HOST}) ended without ending it" in why


def test_a_runtime_opening_ends_the_process_of_a_runtime_killed_on_another_host(
    home: Path, killed_elsewhere: Elsewhere
) -> None:
    with Runtime(home, database_url=killed_elsewhere.url) as runtime:
        assert runtime.repaired == (killed_elsewhere.pk,)


# A runtime alive on another host.


def test_the_process_of_a_runtime_beating_on_another_host_is_left_alone(
    home: Path, alive_elsewhere: Elsewhere
) -> None:
    with Runtime(home, database_url=alive_elsewhere.url) as runtime:
        assert runtime.repaired == ()
        assert runtime.repair() == []

    assert _state(home, alive_elsewhere.url, alive_elsewhere.pk)[0] is ProcessState.RUNNING


def test_process_kill_names_the_program_on_another_host_that_runs_it(
    home: Path, alive_elsewhere: Elsewhere
) -> None:
    result = _cli(home, alive_elsewhere.url, "kill", str(alive_elsewhere.pk))

    assert result.exit_code == 1
    said = " ".join(result.stderr.split())
    assert f"OS process {alive_elsewhere.script.pid} on {OTHER_HOST}" in said
    assert f"kill {alive_elsewhere.script.pid}" in said
    assert _state(home, alive_elsewhere.url, alive_elsewhere.pk)[0] is ProcessState.RUNNING


# Holders written by hand: which homes count.


def _held_elsewhere(runtime: Runtime, home: str, runtime_id: str | None) -> int:
    """A running process node whose holder is a runtime on another host."""
    holder = Holder(OTHER_HOST, 4242, 0.0, home, None, runtime_id)
    node = Calculation()
    node.set_process_attributes(
        **{"process_state": ProcessState.RUNNING.value, HOLDER: holder.as_attribute()}
    )
    node.store()
    return node.pk


def _ran_out(runtime: Runtime, runtime_id: str, home: str) -> None:
    row = Heartbeat(Beat.OPEN, runtime_id, OTHER_HOST, 4242, home, -1.0)
    runtime.backend.beat(row, timeout=STARTED_TIMEOUT)


def test_with_checkpoints_in_files_only_processes_of_this_home_are_judged(
    runtime: Runtime,
) -> None:
    # Another home's processes may have checkpoints there, which only its daemon sees.
    this_home = _held_elsewhere(runtime, str(runtime.home), "dead-here")
    other_home = _held_elsewhere(runtime, "/another/home", "dead-there")
    for runtime_id, home in (("dead-here", str(runtime.home)), ("dead-there", "/another/home")):
        _ran_out(runtime, runtime_id, home)

    assert runtime.repair() == [this_home]
    assert runtime.load_node(other_home).process_state is ProcessState.RUNNING  # type: ignore[attr-defined]


@pytest.mark.postgres
def test_with_checkpoints_in_the_shared_database_processes_of_every_home_are_judged(
    pg_runtime: Runtime,
) -> None:
    assert pg_runtime.shared_database
    other_home = _held_elsewhere(pg_runtime, "/another/home", "dead-there")
    _ran_out(pg_runtime, "dead-there", "/another/home")

    assert pg_runtime.repair() == [other_home]


def test_a_holder_on_another_host_without_a_runtime_row_name_is_never_judged_dead(
    runtime: Runtime,
) -> None:
    # Recorded by a runtime of a version without heartbeats: nothing tells its fate.
    pk = _held_elsewhere(runtime, str(runtime.home), None)

    assert runtime.repair() == []
    assert runtime.load_node(pk).process_state is ProcessState.RUNNING  # type: ignore[attr-defined]


def test_a_holder_on_another_host_whose_runtime_has_no_row_is_dead(runtime: Runtime) -> None:
    # Its runtime shut down (and deleted its row) without ending it, or its row was forgotten.
    pk = _held_elsewhere(runtime, str(runtime.home), "never-beat")

    assert runtime.repair() == [pk]
