"""aiida-core's tests of namespaces, exposed ports, serializers and launch metadata, translated
(``tests/engine/test_work_chain.py``, ``tests/engine/test_process_function.py``)."""

from __future__ import annotations

from typing import Any

import pytest

from actors import Process, ProcessSpec, Runtime, WorkChain, workfunction
from actors.workchain import WorkChainSpec
from provenance import Bool, Float, Int, LinkType, Str, load_node, to_node
from tests.peers.aiida.toolkit_chains import DefaultParent, GrandParentExpose, ParentExpose
from tests.peers.helpers import run_and_check_success


def _values(result: Any) -> Any:
    if isinstance(result, dict):
        return {key: _values(value) for key, value in result.items()}
    return result.value


def test_expose(runtime: Runtime) -> None:
    """TestWorkChainExpose.test_expose: ports exposed at the top, in namespaces and nested
    namespaces; inputs agglomerated down the namespace path; outputs re-emitted nested."""
    result = runtime.run(
        ParentExpose,
        a=Int(1),
        sub_1={"b": Float(2.3), "c": Bool(True)},
        sub_2={"b": Float(1.2), "sub_3": {"c": Bool(False)}},
    )

    assert _values(result) == {
        "a": pytest.approx(2.2),
        "sub_1": {"b": 2.3, "c": True},
        "sub_2": {"b": 1.2, "sub_3": {"c": False}},
    }


def test_nested_expose(runtime: Runtime) -> None:
    """TestWorkChainExpose.test_nested_expose: a whole exposing work chain exposed again, two
    namespaces down."""
    result = runtime.run(
        GrandParentExpose,
        sub={
            "sub": {
                "a": Int(1),
                "sub_1": {"b": Float(2.3), "c": Bool(True)},
                "sub_2": {"b": Float(1.2), "sub_3": {"c": Bool(False)}},
            }
        },
    )

    assert _values(result) == {
        "sub": {
            "sub": {
                "a": pytest.approx(2.2),
                "sub_1": {"b": 2.3, "c": True},
                "sub_2": {"b": 1.2, "sub_3": {"c": False}},
            }
        }
    }


def test_issue_1741_expose_inputs(runtime: Runtime) -> None:
    """TestWorkChainExpose.test_issue_1741_expose_inputs: an exposed port whose default is a
    stored node runs (each process gets its own copy of a node default)."""

    class Parent(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.input("a", default=Int(5))
            spec.outline(cls.step1)

        def step1(self) -> None:
            pass

    class Child(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.expose_inputs(Parent)
            spec.outline(cls.step1)

        def step1(self) -> None:
            pass

    run_and_check_success(runtime, Child)


def test_unique_default_inputs(runtime: Runtime) -> None:
    """TestDefaultUniqueness.test_unique_default_inputs: one default exposed in two namespaces
    gives two nodes, linked ``child_one__a`` and ``child_two__a``."""
    _, node = runtime.run_get_node(DefaultParent, child_one={}, child_two={})

    inputs = load_node(node.pk).get_inputs_dict(LinkType.INPUT)
    assert sorted(inputs) == ["child_one__a", "child_two__a"]
    assert len({value.uuid for value in inputs.values()}) == 2


def test_immutable_input_groups(runtime: Runtime) -> None:
    """TestWorkchain.test_immutable_input_groups: a namespace in ``self.inputs`` refuses
    changes too (workactors raises TypeError for every change, see README)."""

    class ImmutableGroups(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.input_namespace("subspace", dynamic=True)
            spec.outline(cls.step_one, cls.step_two)

        def step_one(self) -> None:
            with pytest.raises(TypeError):
                self.inputs.subspace["one"] = Int(3)
            with pytest.raises(TypeError):
                self.inputs.subspace.pop("two")
            with pytest.raises(TypeError):
                self.inputs.subspace["four"] = Int(4)

        def step_two(self) -> None:
            assert "one" in self.inputs.subspace
            assert "two" in self.inputs.subspace
            assert "four" not in self.inputs.subspace
            assert self.inputs.subspace["one"].value == 1

    run_and_check_success(runtime, ImmutableGroups, subspace={"one": Int(1), "two": Int(2)})


def test_serialize(runtime: Runtime) -> None:
    """TestSerializeWorkChain.test_serialize: a port's serializer turns what is given into a
    node (here a class into its import path)."""

    class Serialize(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.input(
                "test",
                valid_type=Str,
                serializer=lambda value: Str(f"{value.__module__}.{value.__qualname__}"),
            )
            spec.input("reference", valid_type=Str)
            spec.outline(cls.do_test)

        def do_test(self) -> None:
            assert isinstance(self.inputs.test, Str)
            assert self.inputs.test.value == self.inputs.reference.value

    run_and_check_success(runtime, Serialize, test=Int, reference=Str("provenance.data.Int"))


def test_input_serialization(runtime: Runtime) -> None:
    """test_process.py test_input_serialization_dict / test_default_serialization: plain values
    given to, or defaulted on, a port with ``to_node`` are stored as nodes."""

    class Serialized(Process):
        @classmethod
        def define(cls, spec: ProcessSpec) -> None:
            super().define(spec)
            spec.input_namespace("in", dynamic=True)
            spec.input("x", serializer=to_node, default=lambda: 5)
            spec.input("d", serializer=to_node)

        def run(self) -> None:
            return None

    _, node = runtime.run_get_node(Serialized, d={"k": [1, 2]})
    inputs = load_node(node.pk).get_inputs_dict()
    assert inputs["x"].value == 5
    assert inputs["d"].get_dict() == {"k": [1, 2]}


@workfunction
def function_with_metadata(x: Int) -> Int:
    return Int(x.value)


def test_function_set_label_description(runtime: Runtime) -> None:
    """test_process_function.py test_function_set_label_description: ``metadata`` on a
    workfunction call labels and describes its node."""
    with runtime.bound():
        _, node = function_with_metadata.run_get_node(
            Int(1), metadata={"label": "my label", "description": "my description"}
        )

    stored = load_node(node.pk)
    assert stored.label == "my label"
    assert stored.description == "my description"


def test_label_and_description(runtime: Runtime) -> None:
    """test_process.py test_label / test_description: ``metadata`` on a launch of a class."""

    class Plain(Process):
        def run(self) -> None:
            return None

    _, node = runtime.run_get_node(Plain, metadata={"label": "a label", "description": "text"})

    assert (load_node(node.pk).label, load_node(node.pk).description) == ("a label", "text")
