"""aiida-core's process tests, translated to workactors.

Origin: github.com/aiidateam/aiida-core, tests/engine/test_process.py. Namespaces of inputs and
outputs, metadata inputs, caching and entry points are not workactors' (see
tests/peers/README.md).
"""

from __future__ import annotations

import pickle
import threading

import pytest

from actors import (
    OutputValidationError,
    Process,
    ProcessStack,
    Runtime,
    load_class,
    run,
    run_get_node,
)
from actors.spec import ProcessSpec
from actors.test_utils import BadOutput, DummyProcess
from provenance import Bool, Int, LinkType, ProcessState, Str


class ProcessStackTest(Process):
    """aiida's ProcessStackTest: the process is on top of the stack while it runs, and its
    step runs on one thread from start to end."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.output("same_thread", valid_type=Bool)

    def run(self) -> None:
        assert ProcessStack.top() is self
        assert ProcessStack.get_active_process_id() == self.pid
        start = threading.get_ident()
        self.report("running")
        self.out("same_thread", Bool(start == threading.get_ident()))


def test_process_stack(runtime: Runtime) -> None:
    """TestProcess.test_process_stack; outside any process the stack is empty."""
    assert run(ProcessStackTest)["same_thread"].value is True
    assert ProcessStack.top() is None


def test_inputs_bad_output(runtime: Runtime) -> None:
    """TestProcess.test_inputs: a process emitting an output outside its spec raises a
    ValueError (OutputValidationError)."""
    with pytest.raises(ValueError, match="does not declare"):
        run(BadOutput)


class FourInputs(Process):
    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.dynamic_input(Str)

    def run(self) -> None:
        pass


def test_input_link_creation(runtime: Runtime) -> None:
    """TestProcess.test_input_link_creation: one INPUT link per input, labelled by its name."""
    dummy_inputs = ["a", "b", "c", "d"]
    _, node = run_get_node(FourInputs, **{name: Str(name) for name in dummy_inputs})

    links = node.get_inputs_dict(link_type=LinkType.INPUT)
    assert sorted(links) == dummy_inputs
    assert all(label == value.value for label, value in links.items())


def test_none_input(runtime: Runtime) -> None:
    """TestProcess.test_none_input: a process without inputs runs."""
    assert run(DummyProcess) == {}


def test_work_calc_finish(runtime: Runtime) -> None:
    """TestProcess.test_work_calc_finish (and test_seal: a terminated node cannot change, its
    state is final)."""
    _, node = run_get_node(DummyProcess)

    assert node.is_finished_ok
    assert node.is_terminated


class AddProcess(Process):
    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.input("a", valid_type=Int)
        spec.input("b", valid_type=Int)
        spec.output("result", valid_type=Int)

    def run(self) -> None:
        self.out("result", self.inputs.a + self.inputs.b)


def test_on_finish_node_updated_before_broadcast(runtime: Runtime) -> None:
    """TestProcess.test_on_finish_node_updated_before_broadcast: by the time anyone hears that
    a process ended (here: its blocking run returns), its state and outputs are committed and
    readable from the database."""
    _, node = run_get_node(AddProcess, a=Int(1), b=Int(1))

    stored = runtime.load_node(node.pk)  # type: ignore[arg-type]
    assert stored.process_state is ProcessState.FINISHED  # type: ignore[attr-defined]
    assert stored.get_outputs_dict()["result"].value == 2


def test_save_instance_state(runtime: Runtime) -> None:
    """TestProcess.test_save_instance_state: the state of a process (here after it ran) saves
    and loads again as the same process."""
    process, done = runtime.launch(AddProcess, {"a": Int(1), "b": Int(2)})
    done.result(timeout=30)

    state = pickle.loads(pickle.dumps(process.save_instance_state()))
    loaded = AddProcess.load_instance_state(state)

    assert loaded.pid == process.pid
    assert dict(loaded.inputs) == {"a": Int(1), "b": Int(2)}
    assert loaded.outputs["result"] == 3
    assert loaded.state is ProcessState.FINISHED


def test_process_type_without_entry_point(runtime: Runtime) -> None:
    """TestProcess.test_process_type_without_entry_point: the node names the class by its
    module and qualified name, and that name loads the class again."""
    _, node = run_get_node(DummyProcess)

    assert node.process_class == f"{DummyProcess.__module__}.{DummyProcess.__qualname__}"
    assert load_class(node.process_class) is DummyProcess


class RequiredOutput(Process):
    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.input("add_outputs", valid_type=Bool, default=lambda: Bool(False))
        spec.output("required_string", valid_type=Str, required=True)

    def run(self) -> None:
        if self.inputs.add_outputs.value:
            self.out("required_string", Str("testing"))


def test_output_validation_error(runtime: Runtime) -> None:
    """TestProcess.test_output_validation_error, a deliberate difference: aiida ends a process
    that left out a required output FINISHED with its ERROR_MISSING_OUTPUT exit code;
    workactors ends it EXCEPTED with an OutputValidationError naming the output (API.md:
    output validation errors end the node EXCEPTED)."""
    with pytest.raises(OutputValidationError, match="required outputs required_string"):
        run(RequiredOutput)

    _, node = run_get_node(RequiredOutput, add_outputs=Bool(True))
    assert node.is_finished_ok


def test_build_process_label(runtime: Runtime) -> None:
    """TestProcess.test_build_process_label: a class may name its processes."""

    class CustomLabelProcess(Process):
        @classmethod
        def process_label(cls) -> str:
            return "custom_process_label"

        def run(self) -> None:
            pass

    _, node = run_get_node(CustomLabelProcess)
    assert node.process_label == "custom_process_label"


class NotRequiredNone(Process):
    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.input("valid_type", valid_type=Int, required=False)
        spec.input("any_type", required=False)

    def run(self) -> None:
        pass


def test_not_required_accepts_none(runtime: Runtime) -> None:
    """test_not_required_accepts_none: an optional port accepts None, which means "not
    given" (aiida keeps it as None in the inputs; workactors leaves it out, so no link)."""
    process = NotRequiredNone({"valid_type": None, "any_type": None})
    assert "valid_type" not in process.inputs
    assert "any_type" not in process.inputs

    process = NotRequiredNone({"valid_type": Int(1), "any_type": Bool(True)})
    assert process.inputs.valid_type == Int(1)
    assert process.inputs.any_type == Bool(True)


class DynamicInputs(Process):
    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.dynamic_input()

    def run(self) -> None:
        pass


def test_input_validation_storable_nodes(runtime: Runtime) -> None:
    """test_input_validation_storable_nodes: a plain value is refused even as a dynamic
    input, nested in a dict or not."""
    with pytest.raises(ValueError, match="must be a data node"):
        run(DynamicInputs, namespace={"a": 1})
    with pytest.raises(ValueError, match="must be a data node"):
        run(DynamicInputs, a=1)
