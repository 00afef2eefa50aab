"""plumpy's ``tests/test_processes.py`` ``TestProcessNamespace``, translated: plain values are
data nodes, and a dynamic namespace is declared with ``input_namespace(..., dynamic=True)``."""

from __future__ import annotations

from actors import Process, ProcessSpec
from actors.attribute_dict import FrozenAttributeDict
from provenance import Bool, Int, Str


class NameSpaced(Process):
    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.input("some.name.space.a", valid_type=Int)
        spec.input("test", valid_type=Int, default=lambda: Int(6))
        spec.input("label", valid_type=Str, required=False)
        spec.input("description", valid_type=Str, required=False)
        spec.input("store_provenance", valid_type=Bool, default=lambda: Bool(True))

    def run(self) -> None:
        return None


def test_namespaced_process() -> None:
    """TestProcessNamespace.test_namespaced_process: nested namespaces validate, and each
    level of ``self.inputs`` is a frozen attribute dict."""
    process = NameSpaced({"some": {"name": {"space": {"a": Int(5)}}}})

    for level in (
        process.inputs,
        process.inputs.some,
        process.inputs.some.name,
        process.inputs.some.name.space,
    ):
        assert isinstance(level, FrozenAttributeDict)
    assert process.inputs.some.name.space.a.value == 5


def test_namespaced_process_inputs() -> None:
    """TestProcessNamespace.test_namespaced_process_inputs: defaults fill, optional ports left
    out are absent."""
    process = NameSpaced({"some": {"name": {"space": {"a": Int(5)}}}})

    assert process.inputs.test.value == 6
    assert process.inputs.store_provenance.value is True
    assert process.inputs.some.name.space.a.value == 5
    assert "label" not in process.inputs
    assert "description" not in process.inputs


def test_namespaced_process_dynamic() -> None:
    """TestProcessNamespace.test_namespaced_process_dynamic: a dynamic nested namespace takes
    every name given, and nothing else appears."""

    class DummyDynamic(Process):
        @classmethod
        def define(cls, spec: ProcessSpec) -> None:
            super().define(spec)
            spec.input_namespace("name.space", dynamic=True, valid_type=Int)

        def run(self) -> None:
            return None

    original = [1, 2, 3, 4]
    process = DummyDynamic({"name": {"space": {str(value): Int(value) for value in original}}})

    assert {label: node.value for label, node in process.inputs.name.space.items()} == {
        str(value): value for value in original
    }
