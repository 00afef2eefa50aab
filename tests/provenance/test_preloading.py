"""``preloading``: the nodes many checkpoints name, read in one query before they are restored."""

from __future__ import annotations

import pytest

from actors import Runtime
from provenance import Int, NotExistentError, load_nodes
from provenance import nodes as nodes_module
from provenance.preloading import preloaded, preloaded_rows, read_rows, uuids_in
from provenance.storage import Storage
from provenance.uuids import new_uuid


def test_the_uuids_a_state_names_are_found_at_any_depth_and_nothing_else() -> None:
    first, second, third = new_uuid(), new_uuid(), new_uuid()
    state = {
        "node": first,
        "inputs": {"x": second, "nested": {"items": [third, "not-a-uuid", 7]}},
        "label": "a" * 36,
        "pair": (first, None),
    }
    assert uuids_in(state) == {first, second, third}


def test_load_nodes_in_a_preloaded_block_asks_the_database_only_for_the_rest(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored = [Int(value).store() for value in (1, 2, 3)]
    rows = read_rows([node.uuid for node in stored[:2]] + [new_uuid()])
    assert sorted(rows) == sorted(node.uuid for node in stored[:2])
    asked: list[Storage] = []
    real_read_storage = nodes_module.read_storage

    def counting_storage() -> Storage:
        asked.append(real_read_storage())
        return asked[-1]

    monkeypatch.setattr(nodes_module, "read_storage", counting_storage)
    with preloaded(rows):
        only_preloaded = load_nodes(node.uuid for node in stored[:2])
        assert asked == []
        both = load_nodes(node.uuid for node in stored)
        assert len(asked) == 1
    assert {uuid: node.value for uuid, node in only_preloaded.items()} == {
        node.uuid: node.value for node in stored[:2]
    }
    assert sorted(node.value for node in both.values()) == [1, 2, 3]
    # A new node for every call, as a query gives.
    assert only_preloaded[stored[0].uuid] is not both[stored[0].uuid]
    assert preloaded_rows([stored[0].uuid]) == {}


def test_a_uuid_missing_from_the_preloaded_rows_and_the_database_is_named(
    runtime: Runtime,
) -> None:
    stored = Int(1).store()
    missing = new_uuid()
    with (
        preloaded(read_rows([stored.uuid, missing])),
        pytest.raises(NotExistentError, match=missing),
    ):
        load_nodes([stored.uuid, missing])


def test_two_loads_of_one_preloaded_node_get_a_node_each_from_a_row_each(
    runtime: Runtime,
) -> None:
    stored = Int(5).store()
    with preloaded(read_rows([stored.uuid])):
        first = load_nodes([stored.uuid])[stored.uuid]
        second = load_nodes([stored.uuid])[stored.uuid]
    assert first.value == second.value == 5
    assert first is not second
    assert first._attributes is not second._attributes
