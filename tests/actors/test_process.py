"""Processes: specs and validation, outputs, exit codes, failures, reports, state on the node."""

from __future__ import annotations

from typing import Any

import pytest

from actors import (
    ExitCode,
    InputValidationError,
    OutputValidationError,
    Process,
    ProcessKilledError,
    ProcessSpec,
    ProcessState,
    Runtime,
    SpecError,
    WorkChain,
    WorkChainSpec,
)
from actors.test_utils import BadOutput, DummyProcess
from provenance import Calculation, Data, Float, Int, LinkType, ProcessNode, Str, load_node
from tests.helpers import count_links, count_nodes, last_process

#: Seconds a launched process is given to end.
WAIT_TIMEOUT = 30.0


class AddOne(Process):
    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.input("x", valid_type=Int, help="the number to increment")
        spec.input("step", valid_type=Int, default=Int(1))
        spec.output("y", valid_type=Int)

    def run(self) -> None:
        self.report("adding %d to %d", self.inputs.step.value, self.inputs.x.value)
        self.out("y", self.inputs.x + self.inputs.step)


class Picky(Process):
    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.input("value", valid_type=(Int, Float))
        spec.output("result", valid_type=Float, required=False)
        spec.exit_code(300, "ERROR_NEGATIVE", "the value was negative")

    def run(self) -> ExitCode | None:
        if self.inputs.value < 0:
            self.report("refusing %s", self.inputs.value)
            return self.exit_codes.ERROR_NEGATIVE
        self.out("result", Float(float(self.inputs.value) ** 0.5))
        return None


class Explodes(Process):
    def run(self) -> None:
        raise RuntimeError("the reactor melted")


class ForgetsOutput(Process):
    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.output("needed", valid_type=Int)

    def run(self) -> None:
        pass


class WrongOutputType(Process):
    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.output("number", valid_type=Int)

    def run(self) -> None:
        self.out("number", Str("five"))


class Dynamic(Process):
    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.dynamic_input(valid_type=Int)
        spec.dynamic_output(valid_type=Int)

    def run(self) -> None:
        for name, value in self.inputs.items():
            self.out(name, value * 2)


def test_a_process_returns_its_outputs_and_records_its_provenance(runtime: Runtime) -> None:
    outputs, node = runtime.run_get_node(AddOne, x=Int(41))

    assert outputs == {"y": 42}
    assert isinstance(node, Calculation)
    assert node.process_state is ProcessState.FINISHED
    assert node.exit_status == 0
    assert node.process_label == "AddOne"
    assert {k: v.value for k, v in node.get_inputs_dict(LinkType.INPUT).items()} == {
        "x": 41,
        "step": 1,
    }
    assert node.get_outputs_dict(LinkType.CREATE) == {"y": 42}
    assert outputs["y"].is_stored


def test_report_lines_are_stored_on_the_node_with_class_and_method(runtime: Runtime) -> None:
    _outputs, node = runtime.run_get_node(AddOne, x=Int(1), step=Int(2))

    runtime.backend.sync()
    messages = [entry.message for entry in node.logs]
    assert messages == ["[AddOne|run] adding 2 to 1"]
    assert node.logs[0].levelname == "INFO"


def test_an_exit_code_ends_finished_with_its_status_and_message(runtime: Runtime) -> None:
    outputs, node = runtime.run_get_node(Picky, value=Int(-4))

    assert outputs == {}
    assert node.process_state is ProcessState.FINISHED
    assert node.exit_status == 300
    assert node.exit_message == "the value was negative"
    assert not node.is_finished_ok


def test_an_input_may_be_any_of_several_types(runtime: Runtime) -> None:
    assert runtime.run(Picky, value=Int(16)) == {"result": 4.0}
    assert runtime.run(Picky, value=Float(2.25)) == {"result": 1.5}


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"x": 4}, r"input 'x' must be Int, got int 4; wrap plain values in a data node: Int\(4\)"),
        ({"x": Str("4")}, r"input 'x' must be Int, got Str"),
        ({}, r"required input 'x' \(Int\) is missing: the number to increment"),
        ({"x": Int(1), "z": Int(2)}, r"unknown input 'z' \(inputs of AddOne: step, x\)"),
    ],
    ids=["plain-value", "wrong-node-type", "missing", "unknown-name"],
)
def test_invalid_inputs_are_refused_before_anything_is_stored(
    runtime: Runtime, inputs: dict[str, Any], message: str
) -> None:
    before = count_nodes(runtime), count_links(runtime)

    with pytest.raises(InputValidationError, match=message):
        runtime.run(AddOne, **inputs)

    assert (count_nodes(runtime), count_links(runtime)) == before


def test_every_invalid_input_is_named_at_once(runtime: Runtime) -> None:
    with pytest.raises(InputValidationError, match=r"'x'.*'z'|'z'.*'x'"):
        runtime.run(AddOne, x=3, z=Int(1))


def test_an_input_validation_error_is_a_value_error(runtime: Runtime) -> None:
    with pytest.raises(ValueError, match="invalid inputs for AddOne"):
        runtime.run(AddOne)


def test_positional_arguments_are_refused_for_process_classes(runtime: Runtime) -> None:
    with pytest.raises(TypeError, match="AddOne takes its inputs by name"):
        runtime.run(AddOne, Int(1))


def test_an_exception_in_run_is_reraised_and_the_node_ends_excepted(runtime: Runtime) -> None:
    with pytest.raises(RuntimeError, match="the reactor melted"):
        runtime.run(Explodes)

    node = last_process(runtime)
    assert node.process_state is ProcessState.EXCEPTED
    assert node.exit_status is None
    assert "RuntimeError: the reactor melted" in (node.exception or "")
    assert "Traceback" in (node.exception or "")


def test_an_output_outside_the_spec_raises_and_the_node_ends_excepted(runtime: Runtime) -> None:
    with pytest.raises(OutputValidationError, match="emitted output 'bad_output'"):
        runtime.run(BadOutput)

    assert last_process(runtime).process_state is ProcessState.EXCEPTED


def test_an_output_of_the_wrong_type_raises(runtime: Runtime) -> None:
    with pytest.raises(OutputValidationError, match="output 'number' must be Int, got Str"):
        runtime.run(WrongOutputType)


def test_finishing_without_a_required_output_ends_excepted(runtime: Runtime) -> None:
    with pytest.raises(OutputValidationError, match="without its required outputs needed"):
        runtime.run(ForgetsOutput)

    assert last_process(runtime).process_state is ProcessState.EXCEPTED


def test_dynamic_ports_accept_any_name_of_their_type(runtime: Runtime) -> None:
    assert runtime.run(Dynamic, a=Int(1), b=Int(2)) == {"a": 2, "b": 4}
    with pytest.raises(InputValidationError, match="input 'c' must be Int"):
        runtime.run(Dynamic, c=Str("x"))


def test_a_dynamic_input_name_too_long_to_link_is_refused_before_anything_is_stored(
    runtime: Runtime,
) -> None:
    before = count_nodes(runtime)

    with pytest.raises(InputValidationError, match="label of 256 characters; at most 255"):
        runtime.run(Dynamic, **{"d" * 256: Int(1)})

    assert count_nodes(runtime) == before


class LongDynamicOutput(Process):
    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.dynamic_output(valid_type=Int)

    def run(self) -> None:
        self.out("o" * 256, Int(1))


def _awaited_child(runtime: Runtime, child_class: type[Process]) -> ProcessNode:
    """Run a work chain that awaits one ``child_class`` until it ends; the child's node."""

    class Awaits(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.outline(cls.launch, cls.done)

        def launch(self) -> dict[str, Any]:
            return {"child": self.submit(child_class)}

        def done(self) -> None:
            pass

    _process, done = runtime.launch(Awaits, {})
    done.result(timeout=WAIT_TIMEOUT)
    child = last_process(runtime)
    assert child.process_label == child_class.__name__
    return child


def test_a_dynamic_output_name_too_long_to_link_fails_its_process_not_its_caller(
    runtime: Runtime,
) -> None:
    # Its output link was refused only as the end was stored: the child's actor failed, the
    # child stayed RUNNING and its caller waited for it forever.
    child = _awaited_child(runtime, LongDynamicOutput)

    assert child.process_state is ProcessState.EXCEPTED
    assert "label of 256 characters" in (child.exception or "")


def test_the_dummy_process_does_nothing_and_finishes(runtime: Runtime) -> None:
    outputs, node = runtime.run_get_node(DummyProcess)

    assert outputs == {}
    assert node.process_state is ProcessState.FINISHED


def test_inputs_are_read_only_inside_run(runtime: Runtime) -> None:
    class Mutates(Process):
        @classmethod
        def define(cls, spec: ProcessSpec) -> None:
            super().define(spec)
            spec.input("x", valid_type=Int)

        def run(self) -> None:
            self.inputs["x"] = Int(2)

    with pytest.raises(TypeError, match="read-only"):
        runtime.run(Mutates, x=Int(1))


def test_a_process_without_run_is_an_error_naming_the_class(runtime: Runtime) -> None:
    class Lazy(Process):
        pass

    with pytest.raises(SpecError, match="Lazy must override run"):
        runtime.run(Lazy)


def test_the_spec_is_sealed_after_define() -> None:
    with pytest.raises(SpecError, match="sealed"):
        AddOne.spec().input("late")


@pytest.mark.parametrize(
    ("define", "message"),
    [
        (lambda spec: spec.exit_code(0, "OK"), "positive int status"),
        (lambda spec: spec.input("not an identifier"), "not a valid Python identifier"),
        (lambda spec: spec.input("x", valid_type=Int, default=Str("a")), "default of input 'x'"),
        (lambda spec: spec.input("a" * 256), "linked under a label of 256 characters"),
        (lambda spec: spec.input("a" * 200 + "." + "b" * 60), "label of 262 characters"),
        (lambda spec: spec.output("o" * 256), "output name 'ooo.*label of 256 characters"),
    ],
)
def test_invalid_specs_are_refused_when_defined(define: Any, message: str) -> None:
    spec = ProcessSpec()

    with pytest.raises(SpecError, match=message):
        define(spec)


def test_two_exit_codes_may_not_share_a_status() -> None:
    spec = ProcessSpec()
    spec.exit_code(400, "A")

    with pytest.raises(SpecError, match="exit status 400 is used by both A and B"):
        spec.exit_code(400, "B")


def test_create_db_record_gives_an_unstored_node_of_the_class() -> None:
    node = AddOne.create_db_record()

    assert isinstance(node, Calculation)
    assert not node.is_stored
    assert node.process_label == "AddOne"
    assert node.process_class.endswith("test_process.AddOne")
    assert node.process_state is ProcessState.CREATED


def test_save_keys_name_the_saved_instance_state(runtime: Runtime) -> None:
    process, done = runtime.launch(AddOne, {"x": Int(3)})
    done.result(timeout=30)

    state = process.save_instance_state()
    keys = Process.SaveKeys
    assert state[keys.CLASS_NAME].endswith("AddOne")
    assert state[keys.PID] == process.pid
    assert state[keys.STATE] == "finished"
    assert set(state[keys.INPUTS]) == {"x", "step"}
    assert load_node(state[keys.OUTPUTS]["y"]) == 4


def test_on_finish_can_be_extended_to_record_more_on_the_node(runtime: Runtime) -> None:
    class Annotated(DummyProcess):
        def on_finish(self, exit_code: ExitCode) -> None:
            super().on_finish(exit_code)
            self.node.set_process_attributes(annotation="done well")

    _outputs, node = runtime.run_get_node(Annotated)

    assert load_node(node.pk).attributes["annotation"] == "done well"
    assert node.process_state is ProcessState.FINISHED


def test_an_on_finish_override_that_does_not_call_super_still_ends_finished(
    runtime: Runtime,
) -> None:
    class Forgetful(DummyProcess):
        def on_finish(self, exit_code: ExitCode) -> None:
            self.report("finished")  # no super().on_finish(exit_code)

    _outputs, node = runtime.run_get_node(Forgetful)

    assert node.process_state is ProcessState.FINISHED
    assert node.exit_status == 0


class RaisesOnExcept(Process):
    def run(self) -> None:
        raise RuntimeError("the step failed")

    def on_except(self, traceback_text: str) -> None:
        raise ValueError("and so did the hook")


def test_an_on_except_override_that_raises_still_ends_excepted_and_its_caller_goes_on(
    runtime: Runtime,
) -> None:
    # The hook's error failed the child's actor: the child stayed RUNNING and its caller
    # waited for it forever.
    child = _awaited_child(runtime, RaisesOnExcept)

    assert child.process_state is ProcessState.EXCEPTED
    assert "RuntimeError: the step failed" in (child.exception or "")
    assert "on_except raised too: ValueError('and so did the hook')" in (child.exception or "")


class Fragile(Data):
    """A user's data type whose storing fails (a bug of the type, not of the engine)."""

    node_type = "data.tests.fragile"

    def _attributes_to_store(self) -> dict[str, Any]:
        raise ValueError("this type cannot be stored today")


class EmitsFragile(Process):
    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.output("fragile", valid_type=Data)

    def run(self) -> None:
        self.out("fragile", Fragile())


def test_an_output_that_cannot_be_stored_ends_its_process_excepted_and_its_caller_goes_on(
    runtime: Runtime,
) -> None:
    # The error failed the child's actor as its end was stored: the child stayed RUNNING in
    # the database (FINISHED in memory) and its caller waited for it forever.
    child = _awaited_child(runtime, EmitsFragile)

    stored = load_node(child.pk or 0)
    assert isinstance(stored, ProcessNode)
    assert stored.process_state is ProcessState.EXCEPTED
    assert "could not be stored: ValueError('this type cannot be stored today')" in (
        stored.exception or ""
    )
    assert stored.get_outputs_dict(LinkType.CREATE) == {}


class KilledForgetfully(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.outline(cls.stop_here, cls.never)

    def stop_here(self) -> None:
        self.abort_nowait("enough")

    def never(self) -> None:
        raise AssertionError("a killed work chain runs no further step")

    def on_kill(self, message: str | None) -> None:
        pass  # no super().on_kill(message)


def test_an_on_kill_override_that_does_not_call_super_still_ends_killed(
    runtime: Runtime,
) -> None:
    process, done = runtime.launch(KilledForgetfully, {})
    with pytest.raises(ProcessKilledError):
        done.result(timeout=WAIT_TIMEOUT)

    assert process.node.process_state is ProcessState.KILLED
    assert load_node(process.pid).exit_message == "enough"


def test_pid_is_the_pk_of_the_process_node(runtime: Runtime) -> None:
    process, done = runtime.launch(DummyProcess, {})
    done.result(timeout=30)

    assert process.pid == process.node.pk
    assert isinstance(process.pid, int)


class HugeExitStatus(Process):
    def run(self) -> ExitCode:
        return ExitCode(10**30, "too big to store")


def test_an_end_the_database_cannot_record_ends_the_process_excepted_not_running(
    runtime: Runtime,
) -> None:
    with pytest.raises(SpecError, match="64 bits"):
        runtime.run(HugeExitStatus)

    node = last_process(runtime)
    assert node.process_state is ProcessState.EXCEPTED
    assert "64 bits" in (node.exception or "")
