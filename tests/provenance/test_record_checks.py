"""The provenance actor's last check of records, and the records it need not check again."""

from __future__ import annotations

import pytest

from actors import Runtime
from provenance import (
    Bool,
    Data,
    Float,
    Int,
    InvalidValueError,
    List,
    Str,
    WorkCalculation,
    load_node,
)
from provenance.process_nodes import ProcessNode
from provenance.record_checks import check_ops
from provenance.records import AttributeUpdate, NodeRecord
from provenance.uuids import new_uuid


def test_a_record_built_by_hand_is_checked_value_by_value() -> None:
    update = AttributeUpdate(new_uuid(), {"ratio": float("nan")})
    with pytest.raises(InvalidValueError, match=r"attribute update of node .*\['ratio'\]"):
        check_ops([update])


def test_a_node_record_whose_node_type_is_too_long_is_refused_on_every_backend() -> None:
    # An archive's node, say: PostgreSQL refused it at commit, SQLite stored it.
    record = NodeRecord(new_uuid(), "data.core." + "t" * 250, {})
    with pytest.raises(InvalidValueError, match=r"node_type of node .* has 260 characters"):
        check_ops([record])


def test_a_node_class_whose_node_type_is_too_long_is_refused_where_it_is_written() -> None:
    with pytest.raises(InvalidValueError, match=r"node_type of .*Weird has 266 characters"):

        class Weird(Int):
            node_type = "data.core." + "w" * 256


def test_a_record_marked_checked_is_not_walked_again() -> None:
    # The contract its makers keep: a value that breaks the rule never reaches a checked record.
    update = AttributeUpdate(new_uuid(), {"ratio": float("nan")}, checked=True)
    record = NodeRecord(new_uuid(), "process", {"ratio": float("nan")}, checked=True)
    check_ops([update, record])


def test_the_checked_mark_takes_no_part_in_equality_or_repr() -> None:
    uuid = new_uuid()
    checked = AttributeUpdate(uuid, {"a": 1}, checked=True)
    assert checked == AttributeUpdate(uuid, {"a": 1})
    assert "checked" not in repr(checked)


def test_the_records_of_a_new_process_node_are_marked_checked() -> None:
    node = WorkCalculation()
    update = node.set_process_attributes(process_state="running", exit_message="ok \x00 done")
    assert update.checked
    assert node._record().checked
    assert update.attributes["exit_message"] == "ok \\x00 done"  # encoded as it was set


def test_a_refused_attribute_leaves_a_new_process_node_as_it_was() -> None:
    node = WorkCalculation()
    with pytest.raises(InvalidValueError, match="integer of 65 bits"):
        node.set_process_attributes(exit_status=2**64)
    assert "exit_status" not in node.attributes
    assert node.set_process_attributes().checked


def test_the_records_of_a_loaded_process_node_are_checked_again(runtime: Runtime) -> None:
    node = WorkCalculation()
    node.set_process_attributes(process_state="created")
    node.store()
    loaded = load_node(node.uuid)
    assert isinstance(loaded, ProcessNode)
    assert not loaded.set_process_attributes(process_state="running").checked


@pytest.mark.parametrize("node", [Int(1), Float(0.5), Str("x"), Bool(True)], ids=repr)
def test_the_records_of_plain_values_are_marked_checked(node: Data) -> None:
    # Their type's ``_coerce`` held the value to the rule when the node was made.
    assert node._record().checked


class Tagged(Int):
    """A subclass that stores more than its value: its promise is not its parent's."""

    def __init__(self, value: int, tag: str) -> None:
        super().__init__(value)
        self._attributes["tag"] = tag


def test_the_records_of_containers_and_of_subclasses_are_checked_by_the_actor() -> None:
    # A container's content may change in place before it is stored (a List appended to).
    assert not List([1])._record().checked
    assert not Tagged(1, "t")._record().checked


def test_attributes_changed_in_memory_are_checked_and_stored_by_the_next_update() -> None:
    node = WorkCalculation()
    node.change_process_attributes(process_state="running", exit_message="bad \ud800 text")
    with pytest.raises(InvalidValueError, match="only finite numbers are stored"):
        node.change_process_attributes(process_state="finished", ratio=float("inf"))
    update = node.attribute_update()
    assert update.attributes == {"process_state": "running", "exit_message": "bad \\ud800 text"}
    assert update.checked
