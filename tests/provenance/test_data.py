"""Data nodes: values, storing, loading back, arithmetic and immutability once stored."""

from __future__ import annotations

import math
import uuid as uuid_module
from typing import Any

import pytest

from actors import Runtime
from provenance import (
    Bool,
    Data,
    Dict,
    Float,
    FrozenDict,
    Int,
    InvalidValueError,
    List,
    ModificationNotAllowedError,
    Node,
    NotExistentError,
    Str,
    load_node,
)
from tests.helpers import count_nodes

ROUND_TRIPS = [
    pytest.param(Int, 42, id="Int"),
    pytest.param(Int, -(2**62), id="Int-large"),
    pytest.param(Float, 0.1 + 0.2, id="Float"),
    pytest.param(Float, 1e16, id="Float-written-as-an-integer-by-jsonb"),
    pytest.param(Float, -2.5e300, id="Float-huge"),
    pytest.param(Str, "héllo, wörld ✓", id="Str"),
    pytest.param(Bool, True, id="Bool-true"),
    pytest.param(Bool, False, id="Bool-false"),
    pytest.param(List, [1, 2.5, "three", None, True, [4, {"five": 5}]], id="List"),
    pytest.param(Dict, {"a": 1, "b": [1, 2], "c": {"d": None, "e": "f"}}, id="Dict"),
    pytest.param(List, [1e20, 2.0, -3.0, 1e300, 1, 2.5e-10], id="List-of-integral-floats"),
    pytest.param(Dict, {"x": 1e20, "n": {"y": [4.0, 4]}}, id="Dict-of-integral-floats"),
]


def typed(value: Any) -> Any:
    """``value`` with the type of every number in it: ``1`` and ``1.0`` differ."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def is_uuid(text: str) -> bool:
    """True if ``text`` is the canonical form of a UUID."""
    return str(uuid_module.UUID(text)) == text


# Unstored nodes.


@pytest.mark.parametrize(("node_class", "value"), ROUND_TRIPS)
def test_a_new_node_holds_its_value_and_is_not_stored(node_class: type[Data], value: Any) -> None:
    node = node_class(value)
    assert node.value == value
    assert node.pk is None
    assert not node.is_stored
    assert node.ctime is None
    assert is_uuid(node.uuid)


def test_every_node_gets_its_own_uuid() -> None:
    assert len({Int(1).uuid for _ in range(100)}) == 100


def test_a_node_takes_the_value_of_another_node() -> None:
    assert Int(Int(3)).value == 3
    assert Float(Int(2)).value == 2.0
    assert isinstance(Float(Int(2)).value, float)
    assert Str(Str("s")).value == "s"


@pytest.mark.parametrize(
    ("node_class", "value"),
    [
        pytest.param(Int, True, id="Int-of-bool"),
        pytest.param(Int, "forty-two", id="Int-of-text"),
        pytest.param(Float, False, id="Float-of-bool"),
        pytest.param(Float, "pi", id="Float-of-text"),
        pytest.param(Str, 1, id="Str-of-int"),
        pytest.param(Str, None, id="Str-of-none"),
    ],
)
def test_a_node_refuses_a_value_of_the_wrong_type(node_class: type[Data], value: Any) -> None:
    with pytest.raises(TypeError, match=node_class.__name__):
        node_class(value)


# Storing and loading.


@pytest.mark.parametrize(("node_class", "value"), ROUND_TRIPS)
def test_a_stored_node_loads_back_by_pk_and_by_uuid_with_its_class_and_value(
    any_runtime: Runtime, node_class: type[Data], value: Any
) -> None:
    node = node_class(value, label="a label", description="a description")

    assert node.store() is node

    assert node.is_stored
    assert isinstance(node.pk, int)
    assert node.ctime is not None
    for key in (node.pk, node.uuid):
        loaded = load_node(key)
        assert type(loaded) is node_class
        assert loaded.pk == node.pk
        assert loaded.uuid == node.uuid
        assert loaded.is_stored
        assert loaded.value == value
        assert typed(loaded.value) == typed(value)  # jsonb gave 1e20 back as an int
        assert loaded.label == "a label"
        assert loaded.description == "a description"
        assert loaded.ctime is not None
        assert loaded.ctime.tzinfo is not None  # aware on SQLite as on PostgreSQL


def test_storing_twice_writes_the_node_once(runtime: Runtime) -> None:
    node = Int(5)
    before = count_nodes(runtime)
    pk = node.store().pk
    assert node.store().pk == pk
    assert count_nodes(runtime) == before + 1


def test_stored_nodes_get_distinct_increasing_pks(any_runtime: Runtime) -> None:
    pks = [Int(index).store().pk for index in range(5)]
    assert pks == sorted(pks)
    assert len(set(pks)) == 5


@pytest.mark.parametrize("node_class", [Int, Float, Str, Bool, List, Dict, FrozenDict])
def test_each_data_class_is_a_data_node(node_class: type[Data]) -> None:
    assert issubclass(node_class, Data)
    assert issubclass(node_class, Node)


def test_loading_a_missing_pk_raises_not_existent_error_naming_it(any_runtime: Runtime) -> None:
    with pytest.raises(NotExistentError, match="no node with pk 987654"):
        load_node(987654)


def test_loading_a_missing_uuid_raises_not_existent_error_naming_it(any_runtime: Runtime) -> None:
    missing = str(uuid_module.uuid4())
    with pytest.raises(NotExistentError, match=f"no node with uuid '{missing}'"):
        load_node(missing)


def test_not_existent_error_is_a_lookup_error(runtime: Runtime) -> None:
    with pytest.raises(LookupError):
        load_node(1)


@pytest.mark.parametrize("key", [True, 1.0, None, b"bytes"])
def test_loading_by_anything_but_an_int_or_a_str_is_a_type_error(
    runtime: Runtime, key: Any
) -> None:
    with pytest.raises(TypeError, match="pk \\(int\\) or a uuid \\(str\\)"):
        load_node(key)


def test_a_float_keeps_full_precision_through_the_database(any_runtime: Runtime) -> None:
    values = [math.pi, 1e-300, -2.5e300, 0.1 + 0.2]
    stored = [Float(value).store() for value in values]
    assert [load_node(node.pk).value for node in stored] == values


# Arithmetic.


def test_adding_two_ints_gives_a_new_unstored_int(runtime: Runtime) -> None:
    left, right = Int(2).store(), Int(3).store()
    total = left + right
    assert type(total) is Int
    assert total.value == 5
    assert not total.is_stored
    assert total.uuid not in {left.uuid, right.uuid}
    assert (left.value, right.value) == (2, 3)


def test_dividing_two_ints_gives_a_float() -> None:
    quotient = Int(1) / Int(4)
    assert type(quotient) is Float
    assert quotient.value == 0.25
    assert type(Int(4) / Int(2)) is Float


@pytest.mark.parametrize(
    ("expression", "expected_class", "expected"),
    [
        pytest.param(lambda: Int(1) + 2, Int, 3, id="Int+int"),
        pytest.param(lambda: 2 + Int(1), Int, 3, id="int+Int"),
        pytest.param(lambda: Int(1) + Float(0.5), Float, 1.5, id="Int+Float"),
        pytest.param(lambda: Int(1) + 0.5, Float, 1.5, id="Int+float"),
        pytest.param(lambda: Int(5) - Int(7), Int, -2, id="Int-Int"),
        pytest.param(lambda: 10 - Int(4), Int, 6, id="int-Int"),
        pytest.param(lambda: Int(3) * Int(4), Int, 12, id="Int*Int"),
        pytest.param(lambda: 3 * Float(1.5), Float, 4.5, id="int*Float"),
        pytest.param(lambda: 1 / Int(4), Float, 0.25, id="int/Int"),
        pytest.param(lambda: Int(7) // Int(2), Int, 3, id="Int//Int"),
        pytest.param(lambda: Int(7) % 3, Int, 1, id="Int%int"),
        pytest.param(lambda: Int(2) ** Int(10), Int, 1024, id="Int**Int"),
        pytest.param(lambda: -Int(3), Int, -3, id="-Int"),
        pytest.param(lambda: abs(Float(-2.5)), Float, 2.5, id="abs(Float)"),
        pytest.param(lambda: Float(7.0) // 2, Float, 3.0, id="Float//int"),
    ],
)
def test_arithmetic_on_numbers_gives_a_new_unstored_node_of_the_right_class(
    expression: Any, expected_class: type[Data], expected: float
) -> None:
    result = expression()
    assert type(result) is expected_class
    assert result.value == expected
    assert not result.is_stored


def test_bool_and_str_nodes_have_no_arithmetic() -> None:
    with pytest.raises(TypeError):
        Bool(True) + 1
    with pytest.raises(TypeError):
        Bool(True) * 2
    with pytest.raises(TypeError):
        -Bool(True)
    with pytest.raises(TypeError):
        Str("a") + Str("b")


def test_numbers_compare_and_convert_like_their_values() -> None:
    assert Int(1) < Int(2) <= 2 < Float(2.5)
    assert Float(3.5) > 3 >= Int(3)
    assert int(Int(7)) == 7
    assert float(Int(7)) == 7.0
    assert [10, 20, 30][Int(1)] == 20
    assert not Int(0)
    assert Float(0.5)


# Equality.


def test_nodes_equal_plain_values_and_nodes_of_equal_value() -> None:
    assert Int(3) == 3
    assert Int(3) == Int(3)
    assert Int(3) == Float(3.0)
    assert Int(3) != Int(4)
    assert Float(1.5) == 1.5
    assert Str("a") == "a"
    assert Str("a") != "b"
    assert Bool(True) == True  # noqa: E712 - the comparison is what is tested
    assert List([1, "a"]) == [1, "a"]
    assert List([1]) == List([1])
    assert List([1]) != [2]
    assert Dict({"a": 1}) == {"a": 1}
    assert Dict({"a": 1}) == Dict({"a": 1})
    assert Dict({"a": 1}) != {"a": 2}


def test_value_nodes_hash_like_their_values_so_sets_deduplicate_them() -> None:
    assert hash(Int(3)) == hash(3)
    assert hash(Str("x")) == hash("x")
    assert len({Int(1), Int(1), Int(2)}) == 2


def test_lists_and_dicts_are_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(List([1]))
    with pytest.raises(TypeError):
        hash(Dict({}))


def test_a_loaded_node_equals_the_stored_one(any_runtime: Runtime) -> None:
    node = Str("same").store()
    assert load_node(node.pk) == node


# Bool.


def test_bool_nodes_are_truthy_like_their_values() -> None:
    assert Bool(True)
    assert not Bool(False)
    assert Bool(1).value is True
    assert Bool(0).value is False
    assert str(Bool(False)) == "False"


# List and Dict.


def test_an_unstored_list_can_be_changed_and_stores_the_changes(runtime: Runtime) -> None:
    items = List([1])
    items.append(2)
    items.extend([Int(3), "four"])
    assert items.value == [1, 2, 3, "four"]
    assert len(items) == 4
    assert items[2] == 3
    assert list(items) == [1, 2, 3, "four"]
    items.store()
    assert load_node(items.pk).value == [1, 2, 3, "four"]


def test_a_stored_list_refuses_modification(runtime: Runtime) -> None:
    items = List([1, 2]).store()
    with pytest.raises(ModificationNotAllowedError, match="stored and immutable"):
        items.append(3)
    with pytest.raises(ModificationNotAllowedError):
        items.extend([3])
    with pytest.raises(ModificationNotAllowedError):
        items.label = "renamed"
    assert items.value == [1, 2]
    assert items.label == ""


def test_a_loaded_list_refuses_modification(runtime: Runtime) -> None:
    loaded = load_node(List([1]).store().uuid)
    assert isinstance(loaded, List)
    with pytest.raises(ModificationNotAllowedError):
        loaded.append(2)
    assert loaded.value == [1]


def test_changing_the_value_copy_of_a_list_or_dict_changes_nothing(runtime: Runtime) -> None:
    items = List([1]).store()
    items.value.append(2)
    items.get_list().append(3)
    mapping = Dict({"a": 1}).store()
    mapping.value["b"] = 2
    mapping.get_dict()["c"] = 3
    assert items.value == [1]
    assert mapping.value == {"a": 1}
    assert load_node(items.pk).value == [1]
    assert load_node(mapping.pk).value == {"a": 1}


def test_an_unstored_dict_can_be_changed_and_stores_the_changes(runtime: Runtime) -> None:
    mapping = Dict(dict={"a": 1})
    mapping["b"] = Int(2)
    mapping["c"] = [1, {"d": None}]
    assert mapping.value == {"a": 1, "b": 2, "c": [1, {"d": None}]}
    assert mapping.keys() == ["a", "b", "c"]
    assert mapping.items()[1] == ("b", 2)
    assert "a" in mapping
    assert "z" not in mapping
    assert len(mapping) == 3
    assert list(mapping) == ["a", "b", "c"]
    mapping.store()
    loaded = load_node(mapping.pk)
    assert loaded.value == {"a": 1, "b": 2, "c": [1, {"d": None}]}


def test_a_stored_dict_refuses_modification(runtime: Runtime) -> None:
    mapping = Dict({"a": 1}).store()
    with pytest.raises(ModificationNotAllowedError):
        mapping["a"] = 2
    loaded = load_node(mapping.pk)
    assert isinstance(loaded, Dict)
    with pytest.raises(ModificationNotAllowedError):
        loaded["b"] = 2
    assert mapping.value == {"a": 1}
    assert loaded.value == {"a": 1}


@pytest.mark.parametrize(
    "content",
    [
        pytest.param([object()], id="object"),
        pytest.param([{1, 2}], id="set"),
        pytest.param([b"bytes"], id="bytes"),
        pytest.param([Int], id="class"),
        pytest.param([{1: "integer key"}], id="nested-int-key"),
    ],
)
def test_non_json_content_in_a_list_is_a_type_error(content: list[Any]) -> None:
    with pytest.raises(TypeError, match="List must hold JSON data"):
        List(content)
    items = List()
    with pytest.raises(TypeError, match="List must hold JSON data"):
        items.append(content[0])
    assert items.value == []


@pytest.mark.parametrize(
    "content",
    [
        pytest.param({"a": object()}, id="object"),
        pytest.param({"a": {1, 2}}, id="set"),
        pytest.param({1: "integer key"}, id="int-key"),
        pytest.param({"a": {None: "none key"}}, id="nested-none-key"),
        pytest.param({("a", "b"): 1}, id="tuple-key"),
    ],
)
def test_non_json_content_in_a_dict_is_a_type_error(content: dict[Any, Any]) -> None:
    with pytest.raises(TypeError, match="Dict must hold JSON data"):
        Dict(content)
    mapping = Dict()
    key, item = next(iter(content.items()))
    with pytest.raises(TypeError, match="Dict must hold JSON data"):
        mapping[key] = item
    assert mapping.value == {}


# FrozenDict.


def test_storing_a_frozen_dict_stores_its_unstored_values_first(any_runtime: Runtime) -> None:
    kept = Int(1).store()
    fresh = Str("new")
    frozen = FrozenDict({"kept": kept, "fresh": fresh})
    before = count_nodes(any_runtime)

    frozen.store()

    assert count_nodes(any_runtime) == before + 2
    assert fresh.is_stored
    assert fresh.pk is not None
    assert frozen.pk is not None
    assert fresh.pk < frozen.pk
    assert frozen["fresh"] is fresh
    assert frozen["kept"] is kept


def test_a_frozen_dict_loads_back_with_its_value_nodes(any_runtime: Runtime) -> None:
    frozen = FrozenDict(dict={"n": Int(1), "s": Str("x"), "l": List([1, 2])}).store()

    loaded = load_node(frozen.pk)

    assert isinstance(loaded, FrozenDict)
    # PostgreSQL's jsonb does not keep the order of keys.
    assert sorted(loaded.keys()) == ["l", "n", "s"]
    assert sorted(loaded) == ["l", "n", "s"]
    assert len(loaded) == 3
    assert "s" in loaded
    assert "missing" not in loaded
    assert {key: type(node) for key, node in loaded.items()} == {"n": Int, "s": Str, "l": List}
    assert {key: node.pk for key, node in loaded.items()} == {
        key: node.pk for key, node in frozen.items()
    }
    assert sorted(node.pk for node in loaded.values()) == sorted(
        node.pk for node in frozen.values()
    )
    assert loaded["n"] == 1
    assert loaded["s"] == "x"
    assert loaded["l"] == [1, 2]
    with pytest.raises(KeyError):
        loaded["missing"]


def test_a_frozen_dict_may_hold_one_unstored_node_under_several_keys(runtime: Runtime) -> None:
    shared = Int(1)
    before = count_nodes(runtime)
    frozen = FrozenDict({"a": shared, "b": shared}).store()
    assert count_nodes(runtime) == before + 2
    loaded = load_node(frozen.pk)
    assert loaded["a"].pk == loaded["b"].pk == shared.pk


def test_a_frozen_dict_may_hold_another_frozen_dict(runtime: Runtime) -> None:
    inner = FrozenDict({"x": Int(5)})
    outer = FrozenDict({"inner": inner, "y": Float(0.5)}).store()
    assert inner.is_stored
    loaded = load_node(outer.uuid)
    assert loaded["inner"]["x"] == 5
    assert loaded["y"] == 0.5


@pytest.mark.parametrize(
    "content",
    [
        pytest.param({"a": 1}, id="plain-value"),
        pytest.param({1: Int(1)}, id="int-key"),
        pytest.param({"a": None}, id="none"),
    ],
)
def test_a_frozen_dict_maps_str_keys_to_data_nodes_only(content: dict[Any, Any]) -> None:
    with pytest.raises(TypeError, match="FrozenDict maps str keys to data nodes"):
        FrozenDict(content)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_a_float_must_be_finite_on_every_database(value: float) -> None:
    with pytest.raises(InvalidValueError, match="only finite numbers are stored"):
        Float(value)
