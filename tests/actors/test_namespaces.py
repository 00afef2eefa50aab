"""Port namespaces, dotted input paths, exposed inputs and outputs, out_many, metadata."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from actors import (
    InputValidationError,
    OutputValidationError,
    Process,
    ProcessSpec,
    Runtime,
    SpecError,
    WorkChain,
    enable_caching,
    workfunction,
)
from actors.workchain import WorkChainSpec
from provenance import Dict, Int, LinkType, List, ProcessNode, QueryBuilder, Str, load_node, to_node
from tests.actors.toolkit_processes import Relax, Wraps


def test_nested_inputs_are_read_as_attributes_and_linked_by_dotted_path(runtime: Runtime) -> None:
    result, node = runtime.run_get_node(Relax, scf={"x": Int(1), "shift": Int(2)})

    assert result["total"].value == 3
    inputs = load_node(node.pk).get_inputs_dict(LinkType.INPUT)
    assert sorted(inputs) == ["scf__shift", "scf__x"]
    outputs = load_node(node.pk).get_outputs_dict()
    assert outputs["echo__x"].value == 1


def test_a_namespace_default_and_a_serializer_fill_plain_values(runtime: Runtime) -> None:
    result, node = runtime.run_get_node(Relax, scf={"x": 4})

    assert result["total"].value == 14
    assert load_node(node.pk).get_inputs_dict()["scf__x"].value == 4


def test_callable_defaults_give_every_process_its_own_node(runtime: Runtime) -> None:
    _, first = runtime.run_get_node(Relax, scf={"x": 1})
    _, second = runtime.run_get_node(Relax, scf={"x": 1})

    shift_1 = load_node(first.pk).get_inputs_dict()["scf__shift"]
    shift_2 = load_node(second.pk).get_inputs_dict()["scf__shift"]
    assert shift_1.value == shift_2.value == 10
    assert shift_1.uuid != shift_2.uuid


def test_validation_errors_name_every_problem_by_its_dotted_path() -> None:
    with pytest.raises(InputValidationError) as caught:
        Relax({"scf": {"shift": Str("no"), "y": Int(1)}, "tag": Int(3)})

    message = str(caught.value)
    assert "unknown input 'scf.y'" in message
    assert "input 'scf.shift' must be Int" in message
    assert "required input 'scf.x' (Int) is missing" in message
    assert "input 'tag' must be Str" in message


def test_a_namespace_given_a_node_instead_of_a_dict_is_refused() -> None:
    with pytest.raises(InputValidationError, match=r"input 'scf' is a namespace: give a dict"):
        Relax({"scf": Int(1)})


def test_the_spec_reads_namespaces_by_item() -> None:
    port = Relax.spec().inputs["scf"]["x"]

    assert port.name == "x"
    assert Relax.spec().inputs["scf"].path == "scf"


def test_a_dynamic_namespace_takes_nested_dicts_of_its_type(runtime: Runtime) -> None:
    class Collect(Process):
        @classmethod
        def define(cls, spec: ProcessSpec) -> None:
            super().define(spec)
            spec.input_namespace("extra", dynamic=True, valid_type=Int)
            spec.output("count", valid_type=Int)

        def run(self) -> None:
            self.out("count", Int(len(self.inputs.extra) + len(self.inputs.extra.deep)))

    result, node = runtime.run_get_node(Collect, extra={"a": Int(1), "deep": {"b": Int(2)}})

    assert result["count"].value == 3
    assert "extra__deep__b" in load_node(node.pk).get_inputs_dict()
    with pytest.raises(InputValidationError, match=r"input 'extra\.deep\.b' must be Int"):
        Collect({"extra": {"deep": {"b": Str("x")}}})


def test_exposed_inputs_and_outputs_pass_through_a_work_chain(runtime: Runtime) -> None:
    result, node = runtime.run_get_node(Wraps, relax={"scf": {"x": 5}})

    assert result["relaxed"]["total"].value == 15
    assert result["relaxed"]["echo"]["x"].value == 5
    outputs = load_node(node.pk).get_outputs_dict(LinkType.RETURN)
    assert outputs["relaxed__total"].value == 15
    assert "relax" in Wraps.spec().inputs
    assert "tag" not in Wraps.spec().inputs["relax"]


def test_exposed_inputs_survive_a_durable_checkpoint(home: Path) -> None:
    with Runtime(home, durable=True) as runtime:
        result = runtime.run(Wraps, relax={"scf": {"x": 2, "shift": 1}})

    assert result["relaxed"]["total"].value == 3


def _define(body: Any, base: type[Process] = Process) -> type[Process]:
    return type("Bad", (base,), {"define": classmethod(body), "run": lambda self: None})


def test_a_namespace_clashing_with_a_port_is_refused_at_definition() -> None:
    def define(cls: Any, spec: ProcessSpec) -> None:
        spec.input("relax", valid_type=Int)
        spec.input("relax.x", valid_type=Int)

    with pytest.raises(SpecError, match=r"Bad: input namespace 'relax' clashes with input port"):
        _define(define)


def test_a_port_clashing_with_a_namespace_is_refused_at_definition() -> None:
    def define(cls: Any, spec: ProcessSpec) -> None:
        spec.input("relax.x", valid_type=Int)
        spec.input("relax", valid_type=Int)

    with pytest.raises(SpecError, match=r"Bad: input 'relax' clashes with the namespace"):
        _define(define)


@pytest.mark.parametrize(
    "declare",
    [
        pytest.param(lambda spec: spec.input("a__b", valid_type=Int), id="input"),
        pytest.param(lambda spec: spec.input("a.b__c", valid_type=Int), id="nested-input"),
        pytest.param(lambda spec: spec.input("a__b.c", valid_type=Int), id="namespace"),
        pytest.param(lambda spec: spec.output("a__b", valid_type=Int), id="output"),
    ],
)
def test_a_port_name_holding_the_link_separator_is_refused_at_definition(
    declare: Callable[[ProcessSpec], None],
) -> None:
    """Found by a user review: ``a__b`` and ``a.b`` were both linked as ``a__b``, so one input
    was lost from the provenance and the two shared a cache key."""

    def define(cls: Any, spec: ProcessSpec) -> None:
        declare(spec)

    with pytest.raises(SpecError, match=r"Bad: (input|output) name '.*' holds '__'.*collide"):
        _define(define)


def test_exposing_the_same_inputs_twice_is_refused_at_definition() -> None:
    def define(cls: Any, spec: ProcessSpec) -> None:
        spec.expose_inputs(Relax, namespace="a")
        spec.expose_inputs(Relax, namespace="a")

    with pytest.raises(SpecError, match=r"Bad: expose_inputs\(Relax, namespace='a'\): .*twice"):
        _define(define)


def test_exposing_onto_a_declared_port_is_refused_naming_it() -> None:
    def define(cls: Any, spec: ProcessSpec) -> None:
        spec.input("scf", valid_type=Int)
        spec.expose_inputs(Relax)

    with pytest.raises(SpecError, match=r"Bad: expose_inputs\(Relax.*input 'scf' is already"):
        _define(define)


def test_exposing_outputs_onto_a_declared_output_is_refused() -> None:
    def define(cls: Any, spec: ProcessSpec) -> None:
        spec.output("total", valid_type=Int)
        spec.expose_outputs(Relax)

    with pytest.raises(SpecError, match=r"Bad: expose_outputs\(Relax.*output 'total'"):
        _define(define)


def test_include_of_an_unknown_port_is_refused() -> None:
    def define(cls: Any, spec: ProcessSpec) -> None:
        spec.expose_inputs(Relax, include=("nope",))

    with pytest.raises(SpecError, match=r"no port named 'nope'"):
        _define(define)


def test_a_serializer_returning_a_non_node_is_refused_at_definition() -> None:
    def define(cls: Any, spec: ProcessSpec) -> None:
        spec.input("x", default=3, serializer=str)

    with pytest.raises(SpecError, match=r"Bad: serializer of input 'x' turned the default 3"):
        _define(define)


def test_a_serializer_returning_a_non_node_at_launch_names_the_port() -> None:
    class Loose(Process):
        @classmethod
        def define(cls, spec: ProcessSpec) -> None:
            super().define(spec)
            spec.input("a.x", serializer=lambda value: value)

        def run(self) -> None:
            return None

    with pytest.raises(InputValidationError, match=r"input 'a\.x': its serializer turned 3"):
        Loose({"a": {"x": 3}})


def test_to_node_makes_nodes_of_plain_values() -> None:
    assert isinstance(to_node([1, 2]), List)
    assert isinstance(to_node({"a": 1}), Dict)
    assert to_node(True).value is True


def test_exposed_inputs_of_a_class_never_exposed_is_a_clear_error(runtime: Runtime) -> None:
    class Asks(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.outline(cls.ask)

        def ask(self) -> None:
            self.exposed_inputs(Relax, namespace="relax")

    with pytest.raises(SpecError, match=r"inputs of Relax were not exposed in namespace 'relax'"):
        runtime.run(Asks)


def test_out_many_refuses_an_undeclared_nested_output(runtime: Runtime) -> None:
    class Emits(Process):
        @classmethod
        def define(cls, spec: ProcessSpec) -> None:
            super().define(spec)
            spec.output("a.b", valid_type=Int)

        def run(self) -> None:
            self.out_many({"a": {"c": Int(1)}})

    with pytest.raises(OutputValidationError, match=r"output 'a\.c'"):
        runtime.run(Emits)


def test_metadata_labels_the_node_on_every_launch_path(runtime: Runtime) -> None:
    _, node = runtime.run_get_node(
        Relax, scf={"x": 1}, metadata={"label": "first", "description": "the first one"}
    )
    stored = load_node(node.pk)
    assert (stored.label, stored.description) == ("first", "the first one")
    assert "metadata" not in stored.get_inputs_dict()

    _, parent = runtime.run_get_node(Wraps, relax={"scf": {"x": 1}}, metadata={"label": "top"})
    assert load_node(parent.pk).label == "top"


def test_unknown_metadata_keys_are_refused() -> None:
    with pytest.raises(InputValidationError, match=r"metadata of Relax: unknown key 'call_link'"):
        Relax({"scf": {"x": 1}, "metadata": {"call_link": "x"}})


def test_metadata_is_not_a_port_name() -> None:
    def define(cls: Any, spec: ProcessSpec) -> None:
        spec.input("metadata", valid_type=Int)

    with pytest.raises(SpecError, match="'metadata' is not an input"):
        _define(define)


@workfunction
def add(x: Int, y: Int) -> Int:
    return Int(x.value + y.value)


def test_a_workfunction_call_takes_metadata_without_an_input_link(runtime: Runtime) -> None:
    with runtime.bound():
        result, node = add.run_get_node(Int(1), Int(2), metadata={"label": "sum"})

    assert result.value == 3
    stored = load_node(node.pk)
    assert stored.label == "sum"
    assert sorted(stored.get_inputs_dict()) == ["x", "y"]


def test_a_queued_process_keeps_its_metadata(home: Path) -> None:
    with Runtime(home) as runtime:
        node = runtime.submit(Relax, scf={"x": 1}, metadata={"description": "for the daemon"})

        assert load_node(node.pk).description == "for the daemon"


def test_namespaced_inputs_are_hashed_so_an_equal_run_is_a_cache_hit(runtime: Runtime) -> None:
    _, source = runtime.run_get_node(Relax, scf={"x": Int(3), "shift": Int(1)})
    with enable_caching():
        result, cached = runtime.run_get_node(Relax, scf={"x": Int(3), "shift": Int(1)})
        _, other = runtime.run_get_node(Relax, scf={"x": Int(3), "shift": Int(2)})

    assert source.node_hash is not None
    assert load_node(cached.pk).cached_from == source.uuid
    assert result["total"].value == 4
    assert load_node(other.pk).cached_from is None


def test_launch_labels_are_queryable(runtime: Runtime) -> None:
    _, node = runtime.run_get_node(Relax, scf={"x": 1}, metadata={"label": "find me"})
    runtime.run(Relax, scf={"x": 2}, metadata={"label": "not me"})

    with runtime.bound():
        found = QueryBuilder().append(ProcessNode, filters={"label": "find me"}).all(flat=True)

    assert [match.pk for match in found] == [node.pk]


@workfunction
def summed(a: Int, b: Int) -> Int:
    """The sum, to be exposed by a work chain as the function itself."""
    return Int(a.value + b.value)


class ExposesAFunction(WorkChain):
    """Exposes a workfunction's inputs by the function (aiida users write ``.process_class``)."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.expose_inputs(summed, namespace="add")
        spec.output("sum", valid_type=Int)
        spec.outline(cls.go)

    def go(self) -> None:
        self.out("sum", summed(**self.exposed_inputs(summed, "add")))


def test_a_workfunction_is_exposed_by_itself_or_by_its_process_class(runtime: Runtime) -> None:
    """Found by a user review: ``expose_inputs(some_workfunction)`` was refused."""
    assert runtime.run(ExposesAFunction, add={"a": Int(1), "b": Int(2)})["sum"].value == 3
    assert ExposesAFunction.spec().exposed(
        ExposesAFunction.spec().exposed_inputs, summed.process_class, "add", "inputs"
    ).names == ("a", "b")
