"""Durable runtimes: a checkpoint after every step, retired at the end, resumed by another."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from actors import ProcessState, Runtime, WorkChain
from actors.control import Action, Intent
from actors.durable import NotImportableError
from actors.workchain import WorkChainSpec
from persistence import PicklePersistence
from provenance import Int, ProcessNode, Str, load_node
from provenance.records import LinkType
from tests.actors.daemon.helpers import wait_for
from tests.actors.workchains import Double, Fails, Loop, TenSteps, hold
from tests.helpers import Fsyncs, count_nodes

TIMEOUT = 10.0


def checkpoints(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("*.pickle"))


def test_a_finished_process_leaves_its_checkpoint_in_finished(home: Path) -> None:
    with Runtime(home, durable=True) as rt:
        _result, node = rt.run_get_node(Loop, n=Int(3))
        assert checkpoints(rt.running_directory) == []
        assert checkpoints(rt.finished_directory) == [f"{node.pk}.pickle"]


def test_an_excepted_process_leaves_its_checkpoint_in_failed(home: Path) -> None:
    with Runtime(home, durable=True) as rt:
        with pytest.raises(ValueError, match="the child broke"):
            rt.run(Fails)
        assert checkpoints(rt.running_directory) == []
        assert len(checkpoints(rt.failed_directory)) == 1


def test_a_stopped_worker_leaves_its_process_to_another_that_resumes_it(home: Path) -> None:
    tag = uuid.uuid4().hex
    reached, release = hold(tag)
    first = Runtime(home, durable=True)
    process, _done = first.launch(TenSteps, {"tag": Str(tag), "stop_at": Int(5)})
    pid = process.pid
    assert pid is not None
    assert reached.wait(TIMEOUT)
    stopping = threading.Thread(target=first.shutdown)
    stopping.start()  # asks the actor to stop after the step in progress
    release.set()
    stopping.join(TIMEOUT)
    assert checkpoints(first.running_directory) == [f"{pid}.pickle"]

    with Runtime(home, durable=True) as second:
        assert second.adopt_checkpoints() == [pid]
        assert second.wait(pid, TIMEOUT)
        node = load_node(pid)
        assert isinstance(node, ProcessNode)
        assert node.process_state is ProcessState.FINISHED
        assert node.get_outputs_dict()["trace"].value == list(range(1, 11))
        assert second.adopt_checkpoints() == []


def test_two_durable_runtimes_never_adopt_the_same_checkpoint(home: Path) -> None:
    tag = uuid.uuid4().hex
    reached, release = hold(tag)
    first = Runtime(home, durable=True)
    process, _done = first.launch(TenSteps, {"tag": Str(tag), "stop_at": Int(2)})
    assert reached.wait(TIMEOUT)
    with Runtime(home, durable=True) as second:
        assert second.adopt_checkpoints() == []  # the first holds it
    release.set()
    assert first.wait(process.pid or 0, TIMEOUT)
    first.shutdown()


def test_a_checkpoint_whose_process_already_ended_is_retired_not_run(home: Path) -> None:
    with Runtime(home) as rt:
        _result, node = rt.run_get_node(Double, x=Int(2))
        # A crash between the end and the checkpoint move leaves this behind:
        persistence = PicklePersistence(
            rt.running_directory,
            rt.finished_directory,
            rt.failed_directory,
            key_file=rt.home / "checkpoint.key",
        )
        persistence.save_state(node.pk or 0, "tests.actors.workchains.Double", _stale_state(node))
    with Runtime(home, durable=True) as worker:
        assert worker.adopt_checkpoints() == []
        assert checkpoints(worker.running_directory) == []
        assert checkpoints(worker.finished_directory) == [f"{node.pk}.pickle"]


def _stale_state(node: ProcessNode) -> dict[str, object]:
    """The checkpoint a worker wrote before the node ended (state RUNNING)."""
    keys = Double.SaveKeys
    inputs = node.get_inputs_dict()
    return {
        keys.CLASS_NAME: "tests.actors.workchains.Double",
        keys.PID: node.pk,
        keys.NODE_UUID: node.uuid,
        keys.INPUTS: {name: value.uuid for name, value in inputs.items()},
        keys.OUTPUTS: {},
        keys.STATE: ProcessState.RUNNING.value,
    }


def test_submit_refuses_a_class_defined_in_a_function_before_storing_anything(
    runtime: Runtime,
) -> None:
    class Local(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.outline(cls.step_one)

        def step_one(self) -> None:
            pass

    with pytest.raises(NotImportableError, match="it is defined inside a function"):
        runtime.submit(Local)
    assert count_nodes(runtime) == 0
    assert checkpoints(runtime.running_directory) == []


def test_pause_holds_the_next_step_until_play(home: Path) -> None:
    tag = uuid.uuid4().hex
    reached, release = hold(tag)
    with Runtime(home) as rt:
        process, done = rt.launch(TenSteps, {"tag": Str(tag), "stop_at": Int(3)})
        pid = process.pid or 0
        assert reached.wait(TIMEOUT)
        assert rt.pause(pid) is True
        release.set()
        assert not rt.wait(pid, 0.2)  # paused after step 3: it cannot end
        # The pause is taken when step 3 has ended; on a loaded machine that may be later.
        wait_for(lambda: process.node.attributes.get("paused") is True, TIMEOUT, "the pause")
        rt.backend.sync()
        assert rt.play(pid) is True
        assert done.result(TIMEOUT)["trace"].value == list(range(1, 11))
        assert rt.pause(pid) is False


def test_a_submitted_process_waits_in_the_running_folder_until_a_worker_adopts_it(
    home: Path,
) -> None:
    with Runtime(home) as submitter:
        node = submitter.submit(Loop, n=Int(2))
        assert node.pk is not None
        assert node.process_state is ProcessState.CREATED
        assert checkpoints(submitter.running_directory) == [f"{node.pk}.pickle"]
        pid = submitter.queue_up(Double, {"x": Int(21)})
    with Runtime(home, durable=True) as worker:
        assert sorted(worker.adopt_checkpoints()) == sorted([node.pk, pid])
        assert worker.wait(node.pk, TIMEOUT)
        assert worker.wait(pid, TIMEOUT)
        assert node.process_state is ProcessState.FINISHED
        assert node.get_outputs_dict()["count"].value == 2
        doubled = load_node(pid)
        assert isinstance(doubled, ProcessNode)
        assert doubled.get_outputs_dict()["y"].value == 42
        assert checkpoints(worker.running_directory) == []


def test_a_process_killed_before_any_worker_held_it_ends_killed_without_running_a_step(
    home: Path,
) -> None:
    """Found by using it: ``process kill`` of a submitted process answered "kill recorded",
    and the worker that adopted it ran it to FINISHED (a chain ran its first step and
    launched a child first): it started the process unpaused, and the kill came too late."""
    with Runtime(home) as submitter:
        chain = submitter.submit(Loop, n=Int(2))
        single = submitter.queue_up(Double, {"x": Int(21)})
        for pid in (chain.pk or 0, single):
            submitter.checkpoints.store.record_intent(pid, Intent(Action.KILL, "not needed"))
    with Runtime(home, durable=True) as worker:
        assert sorted(worker.adopt_checkpoints()) == sorted([chain.pk, single])
        for pid in (chain.pk or 0, single):
            assert worker.wait(pid, TIMEOUT)
            node = load_node(pid)
            assert isinstance(node, ProcessNode)
            assert node.process_state is ProcessState.KILLED
            assert node.get_outputs_dict() == {}
        assert count_nodes(worker) == 4  # two processes and their inputs: nothing else ran
        assert checkpoints(worker.running_directory) == []


def test_a_submitted_workfunction_is_adopted_by_its_function_path(home: Path) -> None:
    from tests.actors.cli.conftest import add

    with Runtime(home) as submitter:
        node = submitter.submit(add, Int(2), Int(3))
    with Runtime(home, durable=True) as worker:
        assert worker.adopt_checkpoints() == [node.pk]
        assert worker.wait(node.pk or 0, TIMEOUT)
        assert node.get_outputs_dict()["_return"].value == 5


def test_submit_with_bad_inputs_stores_nothing(runtime: Runtime) -> None:
    from actors import InputValidationError

    with pytest.raises(InputValidationError, match="wrap plain values"):
        runtime.submit(Double, x=3)
    assert count_nodes(runtime) == 0
    assert checkpoints(runtime.running_directory) == []


def test_a_submission_whose_first_checkpoint_fails_is_stored_excepted_not_created(
    runtime: Runtime, tmp_path: Path
) -> None:
    from persistence import PersistenceError

    elsewhere = PicklePersistence.create_from_basedir(tmp_path / "elsewhere")
    (tmp_path / "elsewhere").rename(tmp_path / "gone")  # the folder vanished: the write fails

    with pytest.raises(PersistenceError):
        runtime.queue_up(Double, {"x": Int(1)}, storage=elsewhere)

    (node,) = [
        node
        for node in map(load_node, range(1, count_nodes(runtime) + 1))
        if isinstance(node, ProcessNode)
    ]
    assert node.process_state is ProcessState.EXCEPTED
    assert "its first checkpoint could not be written, so it never ran" in (node.exception or "")


def test_a_workfunction_queued_into_a_given_storage_is_loadable_by_a_worker(
    tmp_path: Path,
) -> None:
    from tests.actors.cli.conftest import add

    with Runtime(tmp_path / "home", durable=True) as runtime:
        storage = PicklePersistence.create_from_basedir(tmp_path / "queue")
        pid = runtime.queue_up(add, {"a": Int(1), "b": Int(2)}, storage=storage)
        (process,) = storage.load_all_processes()
        assert process.pid == pid
        assert type(process) is add.process_class
        storage.release_all()


def test_resuming_a_process_that_still_runs_here_starts_no_second_actor(home: Path) -> None:
    """A store may hand back a claim on a process whose actor here still runs it (its lease ran
    out and it claimed the process again): that actor goes on alone, or both would run its
    steps and store its end (in a work chain that launches children: twice the children)."""
    tag = uuid.uuid4().hex
    reached, release = hold(tag)
    with Runtime(home, durable=True) as rt:
        process, done = rt.launch(TenSteps, {"tag": Str(tag), "stop_at": Int(5)})
        pid = process.pid
        assert pid is not None
        assert reached.wait(TIMEOUT)
        claimed_again = TenSteps.load_instance_state(process.save_instance_state())
        rt.launcher.resume(claimed_again, False)
        release.set()
        assert done.result(timeout=TIMEOUT)["trace"].value == list(range(1, 11))
        assert rt.wait(pid, TIMEOUT)
        node = load_node(pid)
        assert isinstance(node, ProcessNode)
        assert node.process_state is ProcessState.FINISHED
        assert len(node.get_outputs(LinkType.CREATE)) == 1  # one end stored, not two


def test_an_end_another_program_stored_is_on_disk_before_its_checkpoint_is_retired(
    home: Path, fsyncs: Fsyncs
) -> None:
    """A worker stored a process's end and died before retiring its checkpoint; the next
    adopter retires it on the strength of that end, which must not be lost with the page
    cache (the checkpoint, moved away, is then the only other record of the process)."""
    with Runtime(home) as runner:  # still open: its commits stay in the WAL
        _result, node = runner.run_get_node(Double, x=Int(2))
        store = PicklePersistence(
            runner.running_directory,
            runner.finished_directory,
            runner.failed_directory,
            key_file=home / "checkpoint.key",
        )
        store.save_state(node.pk or 0, "tests.actors.workchains.Double", _stale_state(node))
        fsyncs.names.clear()
        with Runtime(home, durable=True) as adopter:
            assert adopter.adopt_checkpoints() == []
            assert (adopter.finished_directory / f"{node.pk}.pickle").exists()

    retired = fsyncs.names.index("finished")
    assert "provenance.sqlite-wal" in fsyncs.names[:retired], fsyncs.names
