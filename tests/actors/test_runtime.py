"""The runtime: homes, databases, async runs, shutdown, the default runtime."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pykka
import pytest

from actors import (
    Process,
    ProcessSpec,
    ProcessState,
    Runtime,
    RuntimeClosedError,
    get_runtime,
    run,
    run_async,
    workfunction,
)
from actors.test_utils import DummyProcess
from provenance import Int, StorageError, load_node
from tests.helpers import count_nodes


@workfunction
def double(x):
    return x * 2


class WaitsForGate(Process):
    """Blocks in run until the test opens the gate: a process that is surely running."""

    gate = threading.Event()
    started = threading.Event()

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.output("done", valid_type=Int)

    def run(self) -> None:
        type(self).started.set()
        assert type(self).gate.wait(timeout=30)
        self.out("done", Int(1))


def test_the_embedded_default_keeps_everything_under_home(home: Path) -> None:
    with Runtime(home) as rt:
        rt.run(double, Int(2))

    assert (home / "provenance.sqlite").is_file()
    for folder in (
        home,
        home / "running",
        home / "running" / "finished",
        home / "running" / "failed",
    ):
        assert folder.is_dir()
        assert folder.stat().st_mode & 0o777 == 0o700


def test_home_defaults_to_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKACTORS_HOME", str(tmp_path / "from-env"))

    with Runtime() as rt:
        assert rt.home == tmp_path / "from-env"


def test_provenance_survives_a_restart_of_the_runtime(home: Path) -> None:
    with Runtime(home) as rt:
        result = rt.run(double, Int(21))
    with Runtime(home) as rt:
        assert load_node(result.pk) == 42
        assert count_nodes(rt) == 3


def test_a_corrupt_database_at_home_is_refused_and_left_as_it_was(home: Path) -> None:
    home.mkdir(parents=True)
    database = home / "provenance.sqlite"
    database.write_bytes(b"this is not a database" * 100)

    with pytest.raises(StorageError, match=r"provenance\.sqlite.*move it away"):
        Runtime(home)

    assert database.read_bytes() == b"this is not a database" * 100
    assert pykka.ActorRegistry.get_all() == []


def test_run_async_returns_a_future_of_the_result(runtime: Runtime) -> None:
    futures = [runtime.run_async(double, Int(i)) for i in range(20)]

    assert [future.result(timeout=30) for future in futures] == [2 * i for i in range(20)]


def test_module_level_functions_use_the_runtime_in_use(runtime: Runtime) -> None:
    assert get_runtime() is runtime
    assert run(double, Int(4)) == 8
    assert run_async(DummyProcess).result(timeout=30) == {}


def test_a_default_runtime_is_created_on_first_use_under_the_home_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKACTORS_HOME", str(tmp_path / "default"))

    assert double(Int(5)) == 10

    assert get_runtime().home == tmp_path / "default"
    get_runtime().shutdown()


def test_shutdown_stops_every_actor_and_commits_everything(home: Path) -> None:
    rt = Runtime(home)
    rt.run(double, Int(1))
    for _ in range(50):
        Int(3).store()

    rt.shutdown()

    assert pykka.ActorRegistry.get_all() == []
    with Runtime(home) as again:
        assert count_nodes(again) == 53


def test_shutdown_waits_for_running_processes(home: Path) -> None:
    WaitsForGate.gate.clear()
    WaitsForGate.started.clear()
    rt = Runtime(home)
    future = rt.run_async(WaitsForGate)
    assert WaitsForGate.started.wait(timeout=30)

    closer = threading.Thread(target=rt.shutdown)
    closer.start()
    WaitsForGate.gate.set()
    closer.join(timeout=30)

    assert future.result(timeout=0) == {"done": 1}
    assert not closer.is_alive()


def test_a_process_that_outlasts_the_shutdown_timeout_is_killed(home: Path) -> None:
    WaitsForGate.gate.clear()
    WaitsForGate.started.clear()
    rt = Runtime(home)
    future = rt.run_async(WaitsForGate)
    assert WaitsForGate.started.wait(timeout=30)
    pid = next(iter(rt.live_pids()))

    closer = threading.Thread(target=rt.shutdown, kwargs={"timeout": 0})
    closer.start()
    WaitsForGate.gate.set()
    closer.join(timeout=30)

    with Runtime(home):
        state = load_node(pid).process_state
    assert state in {ProcessState.KILLED, ProcessState.FINISHED}
    assert future.done()


def test_a_closed_runtime_refuses_new_processes(home: Path) -> None:
    rt = Runtime(home)
    rt.shutdown()

    with pytest.raises(RuntimeClosedError, match="shut down; create a new Runtime"):
        rt.run(DummyProcess)
    rt.shutdown()  # a second shutdown does nothing


def test_the_registry_holds_nothing_after_a_thousand_runs(runtime: Runtime) -> None:
    futures = [runtime.run_async(double, Int(i)) for i in range(1000)]
    for future in futures:
        future.result(timeout=60)

    assert set(runtime.registry_sizes().values()) == {0}
    assert runtime.live_pids() == ()


def test_a_database_url_points_provenance_at_postgresql(home: Path, postgres_url: str) -> None:
    with Runtime(home, database_url=postgres_url) as rt:
        result, node = rt.run_get_node(double, Int(8))
        assert result == 16
        assert node.get_inputs() == [8]
        assert rt.storage.dialect == "postgresql"
    assert not (home / "provenance.sqlite").exists()


def test_the_database_url_variable_is_used_when_none_is_given(
    home: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKACTORS_DATABASE_URL", postgres_url)

    with Runtime(home) as rt:
        assert rt.storage.dialect == "postgresql"
        assert rt.run(double, Int(1)) == 2


def test_the_current_step_uses_the_runtime_that_runs_it(tmp_path: Path) -> None:
    seen: list[Runtime] = []

    @workfunction
    def which(x):
        seen.append(get_runtime())
        return x

    with Runtime(tmp_path / "a") as first, Runtime(tmp_path / "b"):
        first.run(which, Int(1))

    assert seen == [first]
    assert os.environ["WORKACTORS_HOME"]
