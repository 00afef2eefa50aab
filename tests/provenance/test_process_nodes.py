"""Process nodes: what runs of workfunctions and processes record in the provenance graph."""

from __future__ import annotations

import pytest

from actors import ExitCode, Process, ProcessSpec, Runtime, workfunction
from provenance import (
    Calculation,
    Data,
    Int,
    LinkType,
    ProcessNode,
    ProcessState,
    Str,
    WorkCalculation,
    load_node,
)
from provenance.process_nodes import stored_process_states
from provenance.records import AttributeUpdate
from tests.helpers import read_queries

MODULE = __name__


@workfunction
def add_numbers(a: Int, b: Int) -> Int:
    """A new node: the sum."""
    return a + b


@workfunction
def pass_through(x: Data) -> Data:
    """Returns its input unchanged."""
    return x


@workfunction
def sum_and_product(a: Int, b: Int) -> dict[str, Int]:
    """Two named outputs."""
    return {"sum": a + b, "product": a * b}


@workfunction
def add_twice(a: Int, b: Int) -> Int:
    """Calls ``add_numbers`` twice and returns the second result."""
    partial = add_numbers(a, b)
    return add_numbers(partial, b)


@workfunction
def explode(x: Int) -> Int:
    """Fails."""
    raise ValueError(f"boom at {x.value}")


class Doubler(Process):
    """A plain process with a declared output and a handled failure."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """One input, one output, one exit code."""
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.output("doubled", valid_type=Int, required=False)
        spec.exit_code(410, "NEGATIVE", "x must not be negative")

    def run(self) -> ExitCode | None:
        """Double x, refusing negative numbers."""
        self.report("doubling %d", self.inputs.x.value)
        if self.inputs.x.value < 0:
            return self.exit_codes.NEGATIVE
        self.out("doubled", self.inputs.x * 2)
        return None


def run_node(rt: Runtime, process: object, *args: object, **inputs: object) -> ProcessNode:
    """Run ``process`` blockingly in ``rt``; its node."""
    _result, node = rt.run_get_node(process, *args, **inputs)
    assert isinstance(node, ProcessNode)
    return node


# A finished workfunction.


def test_a_finished_workfunction_records_its_state_exit_status_and_label(
    any_runtime: Runtime,
) -> None:
    result, node = any_runtime.run_get_node(add_numbers, Int(1), Int(2))

    assert result == 3
    assert type(node) is WorkCalculation
    assert node.is_stored
    assert node.process_state is ProcessState.FINISHED
    assert node.exit_status == 0
    assert node.exit_message is None
    assert node.exception is None
    assert node.process_label == "add_numbers"
    assert node.process_class == f"{MODULE}.add_numbers"
    assert node.is_finished_ok
    assert node.is_terminated
    assert not node.is_excepted
    assert not node.is_killed


def test_a_loaded_process_node_has_the_same_record(any_runtime: Runtime) -> None:
    node = run_node(any_runtime, add_numbers, Int(1), Int(2))

    loaded = load_node(node.pk)

    assert type(loaded) is WorkCalculation
    assert isinstance(loaded, ProcessNode)
    assert loaded.uuid == node.uuid
    assert loaded.process_state is ProcessState.FINISHED
    assert loaded.exit_status == 0
    assert loaded.process_label == "add_numbers"
    assert loaded.is_finished_ok
    assert load_node(node.uuid).pk == node.pk


def test_a_workfunction_node_links_its_inputs_by_argument_name(any_runtime: Runtime) -> None:
    a, b = Int(1), Int(2)
    node = run_node(any_runtime, add_numbers, a, b)

    assert a.is_stored
    assert b.is_stored
    inputs = node.get_inputs_dict()
    assert inputs == {"a": 1, "b": 2}
    assert {name: value.pk for name, value in inputs.items()} == {"a": a.pk, "b": b.pk}
    assert [value.pk for value in node.get_inputs()] == [a.pk, b.pk]
    assert node.get_inputs_dict(link_type=LinkType.INPUT).keys() == {"a", "b"}
    assert node.get_inputs(link_type=LinkType.CALL) == []
    assert [type(value) for value in node.get_inputs()] == [Int, Int]


def test_a_workfunction_creates_its_returned_node_as_output(any_runtime: Runtime) -> None:
    result, node = any_runtime.run_get_node(add_numbers, Int(1), Int(2))

    assert result.is_stored
    outputs = node.get_outputs_dict()
    assert list(outputs) == ["_return"]
    assert outputs["_return"].pk == result.pk
    assert outputs["_return"] == 3
    assert [value.pk for value in node.get_outputs(link_type=LinkType.CREATE)] == [result.pk]
    assert node.get_outputs(link_type=LinkType.RETURN) == []
    assert [value.pk for value in result.get_inputs(link_type=LinkType.CREATE)] == [node.pk]


def test_returning_an_input_unchanged_is_a_return_link_not_a_creation(runtime: Runtime) -> None:
    text = Str("same").store()
    result, node = runtime.run_get_node(pass_through, text)

    assert result.pk == text.pk
    assert node.get_outputs(link_type=LinkType.CREATE) == []
    assert {name: value.pk for name, value in node.get_outputs_dict(LinkType.RETURN).items()} == {
        "_return": text.pk
    }
    assert node.get_inputs_dict()["x"].pk == text.pk


def test_a_workfunction_returning_a_dict_has_one_output_per_key(any_runtime: Runtime) -> None:
    result, node = any_runtime.run_get_node(sum_and_product, Int(3), Int(4))

    assert result == {"sum": 7, "product": 12}
    outputs = node.get_outputs_dict()
    assert outputs == {"sum": 7, "product": 12}
    assert {name: value.pk for name, value in outputs.items()} == {
        name: value.pk for name, value in result.items()
    }


# Calls.


def test_a_nested_workfunction_records_its_caller_and_the_caller_its_calls(
    any_runtime: Runtime,
) -> None:
    result, outer = any_runtime.run_get_node(add_twice, Int(1), Int(10))

    assert result == 21
    assert isinstance(outer, ProcessNode)
    called = outer.called
    assert [type(node) for node in called] == [WorkCalculation, WorkCalculation]
    assert [node.process_label for node in called] == ["add_numbers", "add_numbers"]
    assert called[0].pk < called[1].pk
    assert all(node.is_finished_ok for node in called)
    for inner in called:
        caller = inner.caller
        assert caller is not None
        assert caller.pk == outer.pk
        assert inner.called == []
    assert outer.caller is None
    assert outer.is_finished_ok


def test_data_flows_through_nested_calls_with_the_right_links(runtime: Runtime) -> None:
    result, outer = runtime.run_get_node(add_twice, Int(1), Int(10))
    first, second = outer.called

    partial = first.get_outputs_dict()["_return"]
    assert partial == 11
    assert second.get_inputs_dict()["a"].pk == partial.pk
    # The inner call created the result; the outer one only returned it.
    assert [node.pk for node in second.get_outputs(LinkType.CREATE)] == [result.pk]
    assert [node.pk for node in outer.get_outputs(LinkType.RETURN)] == [result.pk]
    assert outer.get_outputs(LinkType.CREATE) == []
    assert [node.pk for node in outer.get_outputs(LinkType.CALL)] == [first.pk, second.pk]


# Failures.


def test_a_workfunction_that_raises_leaves_an_excepted_node_with_the_traceback(
    any_runtime: Runtime,
) -> None:
    process, done = any_runtime.launch(explode.process_class, {"x": Int(7)})
    with pytest.raises(ValueError, match="boom at 7"):
        done.result(timeout=30)

    node = load_node(process.pid)
    assert isinstance(node, WorkCalculation)
    assert node.process_state is ProcessState.EXCEPTED
    assert node.is_excepted
    assert node.is_terminated
    assert not node.is_finished_ok
    assert node.exit_status is None
    assert node.exception is not None
    assert "ValueError: boom at 7" in node.exception
    assert node.get_outputs() == []


def test_a_process_ending_with_an_exit_code_is_finished_but_not_ok(runtime: Runtime) -> None:
    outputs, node = runtime.run_get_node(Doubler, x=Int(-1))

    assert outputs == {}
    assert type(node) is Calculation
    assert node.process_state is ProcessState.FINISHED
    assert node.exit_status == 410
    assert node.exit_message == "x must not be negative"
    assert node.is_terminated
    assert not node.is_finished_ok


# Plain processes.


def test_a_plain_process_records_a_calculation_with_its_outputs(any_runtime: Runtime) -> None:
    outputs, node = any_runtime.run_get_node(Doubler, x=Int(21))

    assert outputs == {"doubled": 42}
    assert type(node) is Calculation
    assert node.is_finished_ok
    assert node.process_label == "Doubler"
    assert node.process_class == f"{MODULE}.Doubler"
    assert node.get_inputs_dict() == {"x": 21}
    assert node.get_outputs_dict() == {"doubled": 42}
    assert node.get_outputs_dict()["doubled"].pk == outputs["doubled"].pk


def test_a_process_report_is_stored_in_the_logs_of_its_node(any_runtime: Runtime) -> None:
    _outputs, node = any_runtime.run_get_node(Doubler, x=Int(5))
    any_runtime.backend.sync()

    [entry] = node.logs
    assert entry.message == "[Doubler|run] doubling 5"
    assert entry.levelname == "INFO"
    assert entry.loggername == "workactors.report"
    assert entry.time.tzinfo is not None


# Unstored and changing nodes.


def test_an_unstored_process_node_has_no_state_logs_or_links() -> None:
    node = Calculation()
    assert node.process_state is None
    assert node.exit_status is None
    assert not node.is_terminated
    assert not node.is_finished_ok
    assert node.logs == []
    assert node.called == []
    assert node.caller is None
    assert node.get_inputs() == []
    assert node.get_outputs_dict() == {}


def test_a_held_process_node_shows_the_state_another_program_stored(runtime: Runtime) -> None:
    node = Calculation()
    node.set_process_attributes(process_state=ProcessState.RUNNING.value, process_label="job")
    node.store()
    assert node.process_state is ProcessState.RUNNING

    # As a daemon worker would: replace the attributes in the database, not in this object.
    runtime.backend.write(
        [
            AttributeUpdate(
                node.uuid,
                {
                    "process_state": ProcessState.FINISHED.value,
                    "exit_status": 0,
                    "process_label": "job",
                },
            )
        ]
    )

    assert node.process_state is ProcessState.FINISHED
    assert node.exit_status == 0
    assert node.is_finished_ok


@pytest.mark.parametrize("state", list(ProcessState))
def test_every_process_state_is_read_back_as_the_enum(
    runtime: Runtime, state: ProcessState
) -> None:
    node = Calculation()
    node.set_process_attributes(process_state=state.value)
    node.store()
    loaded = load_node(node.pk)
    assert isinstance(loaded, Calculation)
    assert loaded.process_state is state
    assert loaded.is_terminated is state.is_terminal
    assert loaded.is_excepted is (state is ProcessState.EXCEPTED)
    assert loaded.is_killed is (state is ProcessState.KILLED)


def test_stored_process_states_reads_a_chunk_of_pks_per_query(
    any_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("provenance.process_nodes.STATES_PER_QUERY", 2)
    runs = [any_runtime.run_get_node(add_numbers, Int(index), Int(1)) for index in range(5)]
    processes = [node.pk for _result, node in runs]
    data = runs[0][0].pk
    missing = max(processes) + 1000

    with any_runtime.bound(), read_queries(any_runtime) as queries:
        states = stored_process_states([*processes, data, missing])

    # Data nodes and pks of no node are left out, for the caller to read one by one.
    assert states == dict.fromkeys(processes, ProcessState.FINISHED)
    assert len(queries) == 4  # seven pks, two per query
