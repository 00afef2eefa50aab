"""load_class and get_or_create_output_group."""

from __future__ import annotations

import pytest

from actors import ClassLoadError, Process, Runtime, get_or_create_output_group, load_class
from actors.test_utils import DummyProcess
from provenance import FrozenDict, Int, Str, load_node
from provenance.process_nodes import ProcessNode


def test_load_class_finds_classes_and_nested_names() -> None:
    assert load_class("actors.test_utils.DummyProcess") is DummyProcess
    assert load_class("actors.process.Process.SaveKeys") is Process.SaveKeys


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("NoDots", "is not a dotted path"),
        ("actors.test_utils.Missing", "module actors.test_utils has no 'Missing'"),
        ("no_such_package.module.Name", "no importable module"),
    ],
)
def test_load_class_names_what_it_could_not_find(path: str, message: str) -> None:
    with pytest.raises(ClassLoadError, match=message):
        load_class(path)


def test_the_output_group_holds_every_output_and_is_created_once(runtime: Runtime) -> None:
    class TwoOutputs(DummyProcess):
        def run(self) -> None:
            self.out("number", Int(3))
            self.out("word", Str("three"))

    _outputs, calculation = runtime.run_get_node(TwoOutputs)
    assert isinstance(calculation, ProcessNode)

    group = get_or_create_output_group(calculation)
    again = get_or_create_output_group(calculation)

    assert isinstance(group, FrozenDict)
    assert group.is_stored
    assert again.pk == group.pk
    loaded = load_node(group.pk)
    assert isinstance(loaded, FrozenDict)
    assert {key: loaded[key].value for key in loaded} == {"number": 3, "word": "three"}


def test_an_unstored_calculation_has_no_output_group() -> None:
    with pytest.raises(ValueError, match="is not stored"):
        get_or_create_output_group(DummyProcess.create_db_record())
