"""plumpy's process tests, translated to workactors.

Origin: github.com/aiidateam/plumpy, tests/test_processes.py. plumpy drives a process object
(``proc.execute()``, ``proc.pause()``); workactors runs a class in a runtime and controls it by
pid (``runtime.pause(pid)``), so those tests go through ``runtime.launch``. Tests of what
workactors does not have (raw inputs, nested namespaces, ``call_soon``, status messages,
process listeners, a ``Process.kill`` for plain processes, executing one instance twice) are
listed in tests/peers/README.md.
"""

from __future__ import annotations

import pickle

import pytest

from actors import (
    ExitCode,
    InputValidationError,
    OutputValidationError,
    Process,
    ProcessKilledError,
    ProcessStack,
    Runtime,
    WorkChain,
    workfunction,
)
from actors.spec import ProcessSpec
from actors.test_utils import DummyProcess
from actors.workchain import WorkChainSpec
from provenance import Bool, Int, List, ProcessNode, ProcessState, Str
from tests.actors.events import Events
from tests.actors.workchains import AwaitsGated, gate
from tests.helpers import process_nodes


class DummyProcessWithOutput(Process):
    """plumpy's utils.DummyProcessWithOutput."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.dynamic_input()
        spec.output("default", valid_type=Int)

    def run(self) -> None:
        self.out("default", Int(5))


def test_spec() -> None:
    """TestProcess.test_spec: each class has its own spec, built once."""

    class Proc(DummyProcess):
        pass

    assert DummyProcess.spec() is not Process.spec()
    assert Proc.spec() is not Process.spec()
    assert Proc.spec() is not DummyProcess.spec()
    assert Proc.spec() is Proc.spec()


def test_dynamic_inputs(runtime: Runtime) -> None:
    """TestProcess.test_dynamic_inputs: unknown inputs only with a dynamic spec."""

    class NoDynamic(Process):
        def run(self) -> None:
            pass

    with pytest.raises(ValueError, match="unknown input 'a'"):
        runtime.run(NoDynamic, a=Int(5))
    assert runtime.run_get_node(DummyProcess, a=Int(5))[1].is_finished_ok


def test_inputs_default(runtime: Runtime) -> None:
    """TestProcess.test_inputs_default: a default fills an input not given."""

    class Proc(DummyProcess):
        @classmethod
        def define(cls, spec: ProcessSpec) -> None:
            super().define(spec)
            spec.input("input", valid_type=Int, default=Int(5), required=False)

    assert Proc({"input": Int(2)}).inputs["input"] == 2
    assert Proc().inputs["input"] == 5


@pytest.mark.parametrize("default", [Bool(True), Bool(False), Int(0), Int(1)])
def test_inputs_default_that_evaluate_to_false(default: Bool | Int) -> None:
    """TestProcess.test_inputs_default_that_evaluate_to_false."""

    class Proc(DummyProcess):
        @classmethod
        def define(cls, spec: ProcessSpec) -> None:
            super().define(spec)
            spec.input("input", default=default)

    process = Proc()
    assert "input" in process.inputs
    assert process.inputs["input"] == default.value


def test_raise_in_define() -> None:
    """TestProcess.test_raise_in_define: the error comes back on every ``spec()``; no half
    built spec is kept."""

    class BrokenProcess(Process):
        @classmethod
        def define(cls, spec: ProcessSpec) -> None:
            super().define(spec)
            raise ValueError("broken define")

    with pytest.raises(ValueError, match="broken define"):
        BrokenProcess.spec()
    with pytest.raises(ValueError, match="broken define"):
        BrokenProcess.spec()


def test_execute(runtime: Runtime) -> None:
    """TestProcess.test_execute and test_run_from_class."""
    outputs, node = runtime.run_get_node(DummyProcessWithOutput)

    assert node.process_state is ProcessState.FINISHED
    assert outputs == {"default": 5}


def test_exception(runtime: Runtime) -> None:
    """TestProcess.test_exception, test_exception_during_run and test_exc_info: the exception
    comes back from ``run`` and the node is EXCEPTED with its traceback."""

    class RaisingProcess(Process):
        def run(self) -> None:
            raise RuntimeError("exception during run")

    with pytest.raises(RuntimeError, match="exception during run"):
        runtime.run(RaisingProcess)
    node = _last(runtime, "RaisingProcess")
    assert node.process_state is ProcessState.EXCEPTED
    assert "RuntimeError: exception during run" in (node.exception or "")


class KillsItselfInItsLastStep(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.outline(cls.only_step)

    def only_step(self) -> None:
        assert self.abort("killed") is False
        self.ctx.after_kill = True  # the step runs to its end


def test_kill_in_run(runtime: Runtime) -> None:
    """TestProcess.test_kill_in_run: a process that kills itself in its step finishes that
    step and then ends KILLED, also when it was its last step. (This port found a defect: an
    abort in the last step of a work chain ended it FINISHED.)"""
    with pytest.raises(ProcessKilledError, match="killed"):
        runtime.run(KillsItselfInItsLastStep)

    node = _last(runtime, "KillsItselfInItsLastStep")
    assert node.process_state is ProcessState.KILLED
    assert node.exit_message == "killed"


def test_wait_pause_play_resume(runtime: Runtime, events: Events, gate_name: str) -> None:
    """TestProcess.test_wait_pause_play_resume: a waiting process is paused, what it waits
    for ends, and it goes on only once played."""
    process, done = runtime.launch(AwaitsGated, {"gate": Str(gate_name)})
    events.wait_for(process.pid, "passivated")

    assert runtime.pause(process.pid) is True  # type: ignore[arg-type]
    gate(gate_name).set()
    runtime.backend.sync()
    [child] = process.node.called
    events.wait_for(child.pk, "terminated")
    assert not done.done()

    assert runtime.play(process.pid) is True  # type: ignore[arg-type]
    assert done.result(timeout=30)["value"] == 7
    assert process.node.process_state is ProcessState.FINISHED


def test_kill_when_paused(runtime: Runtime, events: Events, gate_name: str) -> None:
    """TestProcess.test_kill_when_paused: a paused waiting process can be killed."""
    process, done = runtime.launch(AwaitsGated, {"gate": Str(gate_name)})
    events.wait_for(process.pid, "passivated")
    assert runtime.pause(process.pid) is True  # type: ignore[arg-type]

    assert runtime.kill(process.pid, "while paused") is True  # type: ignore[arg-type]
    with pytest.raises(ProcessKilledError, match="while paused"):
        done.result(timeout=30)
    assert process.node.process_state is ProcessState.KILLED


def test_invalid_output(runtime: Runtime) -> None:
    """TestProcess.test_invalid_output: an undeclared output is a ValueError, EXCEPTED."""

    class InvalidOutput(Process):
        def run(self) -> None:
            self.out("invalid", Int(5))

    with pytest.raises(ValueError, match="does not declare"):
        runtime.run(InvalidOutput)
    assert _last(runtime, "InvalidOutput").process_state is ProcessState.EXCEPTED


def test_missing_output(runtime: Runtime) -> None:
    """TestProcess.test_missing_output: a required output left out makes the process
    unsuccessful (plumpy: FINISHED not successful; workactors: EXCEPTED, API.md)."""

    class MissingOutputProcess(Process):
        @classmethod
        def define(cls, spec: ProcessSpec) -> None:
            super().define(spec)
            spec.output("default", required=True)

        def run(self) -> None:
            pass

    with pytest.raises(OutputValidationError, match="without its required outputs default"):
        runtime.run(MissingOutputProcess)
    assert not _last(runtime, "MissingOutputProcess").is_finished_ok


def test_unsuccessful_result(runtime: Runtime) -> None:
    """TestProcess.test_unsuccessful_result: plumpy's UnsuccessfulResult(256) is an exit
    code here."""

    class Proc(Process):
        def run(self) -> ExitCode:
            return ExitCode(256)

    _, node = runtime.run_get_node(Proc)
    assert node.process_state is ProcessState.FINISHED
    assert node.exit_status == 256


@workfunction
def nested_sees_itself_on_top():
    top = ProcessStack.top()
    assert top is not None
    return Bool(top.process_label() == "nested_sees_itself_on_top")


class StackParent(Process):
    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.output("seen", valid_type=List)

    def run(self) -> None:
        seen = [ProcessStack.top() is self]
        seen.append(nested_sees_itself_on_top().value)
        seen.append(ProcessStack.top() is self)
        self.out("seen", List(seen))


def test_process_stack_multiple(runtime: Runtime) -> None:
    """TestProcess.test_process_stack, test_process_stack_multiple and test_process_nested:
    several parents at once, each calling a nested process; every one sees itself on top of
    the stack, and the parent again after the child returned."""
    futures = [runtime.run_async(StackParent) for _ in range(3)]

    for future in futures:
        assert future.result(timeout=30)["seen"].value == [True, True, True]
    assert ProcessStack.top() is None


def test_round_trip_of_created_and_finished_processes(runtime: Runtime) -> None:
    """TestProcessSaving.test_created_bundle, test_instance_state_with_outputs and
    _check_round_trip: the saved state of a process loads as one with the same pid and saves
    again the same."""
    process, done = runtime.launch(DummyProcessWithOutput, {"a": Int(1)})
    done.result(timeout=30)
    runtime.backend.sync()

    saved = process.save_instance_state()
    loaded = DummyProcessWithOutput.load_instance_state(pickle.loads(pickle.dumps(saved)))

    assert loaded.pid == process.pid
    assert loaded.outputs == {"default": 5}
    assert repr(loaded.save_instance_state()) == repr(saved)


def test_inputs_are_refused_before_anything_is_stored(runtime: Runtime) -> None:
    """TestProcess.test_inputs: an input that is not a data node is refused at once."""

    class Proc(Process):
        @classmethod
        def define(cls, spec: ProcessSpec) -> None:
            super().define(spec)
            spec.input("a")

        def run(self) -> None:
            pass

    with pytest.raises(InputValidationError, match="wrap plain values in a data node: Int"):
        Proc({"a": 5})
    assert Proc({"a": Int(5)}).inputs.a == 5


def _last(runtime: Runtime, label: str) -> ProcessNode:
    """The newest process node with ``label``."""
    return process_nodes(runtime, label)[-1]
