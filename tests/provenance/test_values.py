"""One value rule on SQLite and PostgreSQL, checked when a node is created; engine text encoded."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from actors import Runtime, workfunction
from actors.process import REPORT_LOGGER_NAME
from actors.test_utils import DummyProcess
from provenance import (
    Calculation,
    Dict,
    Float,
    FrozenDict,
    Group,
    Int,
    InvalidValueError,
    List,
    ProvenanceError,
    Str,
    load_node,
)
from provenance.values import INT_MAX, INT_MIN, encode_text

# Integers.


@pytest.mark.parametrize("value", [INT_MIN, -1, 0, INT_MAX])
def test_integers_within_signed_64_bits_are_stored_and_read_back_exactly(
    any_runtime: Runtime, value: int
) -> None:
    node = Int(value).store()
    assert load_node(node.pk).value == value
    listed = List([value, [value]]).store()
    assert load_node(listed.pk).value == [value, [value]]
    mapping = Dict({"n": value, "inner": {"n": value}}).store()
    assert load_node(mapping.pk).value == {"n": value, "inner": {"n": value}}


@pytest.mark.parametrize(
    ("value", "bits"),
    [
        pytest.param(INT_MAX + 1, 64, id="2**63"),
        pytest.param(INT_MIN - 1, 64, id="-2**63-1"),
        pytest.param(2**100, 101, id="2**100"),
        pytest.param(10**5000, 16610, id="10**5000"),
    ],
)
def test_an_int_outside_64_bits_is_refused_naming_its_size_and_the_limit(
    value: int, bits: int
) -> None:
    with pytest.raises(InvalidValueError, match=rf"integer of {bits} bits.*signed 64 bits") as info:
        Int(value)
    assert isinstance(info.value, ProvenanceError)
    assert isinstance(info.value, ValueError)
    assert "the value of an Int" in str(info.value)


def test_an_int_too_large_for_a_float_is_a_clear_error_not_an_overflow() -> None:
    with pytest.raises(InvalidValueError, match="integer of 1329 bits, beyond the range of a"):
        Float(10**400)
    with pytest.raises(TypeError, match="Float takes a float, not 'xxxxxxxxxx'"):
        Float("x" * 10)


def test_arithmetic_that_leaves_64_bits_is_refused_when_the_result_is_created() -> None:
    with pytest.raises(InvalidValueError, match="65 bits"):
        Int(INT_MAX) * 4


def test_ints_inside_lists_and_dicts_follow_the_same_limit_and_the_error_names_the_item() -> None:
    with pytest.raises(InvalidValueError, match=r"List\[1\]\[0\]: the number is an integer of 65"):
        List([1, [2**64]])
    with pytest.raises(InvalidValueError, match=r"Dict\['a'\]\['b'\]: the number is an integer"):
        Dict({"a": {"b": -(2**70)}})
    items = List()
    with pytest.raises(InvalidValueError, match="integer of 65 bits"):
        items.append(2**64)
    assert items.value == []
    mapping = Dict()
    with pytest.raises(InvalidValueError, match="integer of 65 bits"):
        mapping["x"] = 2**64
    assert mapping.value == {}


def test_a_structure_nested_too_deeply_is_a_type_error_not_a_recursion_error() -> None:
    deep: list[object] = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(TypeError, match="nested too deeply"):
        List(deep)


def test_process_attributes_nested_too_deeply_are_refused_saying_so(runtime: Runtime) -> None:
    deep: list[object] = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(TypeError, match="nested too deeply"):
        runtime.run(DummyProcess, _attributes={"deep": deep})


# Floats: refused on both backends (PostgreSQL's jsonb has no NaN, SQLite would store it).


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_nan_and_infinities_are_refused_in_floats_lists_and_dicts(value: float) -> None:
    with pytest.raises(InvalidValueError, match="only finite numbers are stored"):
        Float(value)
    with pytest.raises(InvalidValueError, match=r"List\[0\]: the number is"):
        List([value])
    with pytest.raises(InvalidValueError, match=r"Dict\['x'\]: the number is"):
        Dict({"x": value})


def test_finite_floats_down_to_the_smallest_are_stored_on_every_backend(
    any_runtime: Runtime,
) -> None:
    values = [0.1, -2.5, 5e-324, 1.5e-300]
    node = List(values).store()
    assert load_node(node.pk).value == values
    assert load_node(Float(1.7976931348623157e308).store().pk).value == 1.7976931348623157e308


# Text.

NUL_TEXT = "before\x00after"
SURROGATE_TEXT = "caf\udce9"


@pytest.mark.parametrize(
    ("text", "problem"),
    [(NUL_TEXT, r"NUL character \(\\x00\) at index 6"), (SURROGATE_TEXT, "lone surrogate")],
)
def test_nul_and_lone_surrogates_are_refused_in_every_kind_of_user_text(
    text: str, problem: str
) -> None:
    cases = [
        (lambda: Str(text), "the value of a Str"),
        (lambda: Int(1, label=text), "the label of a Int"),
        (lambda: Int(1, description=text), "the description of a Int"),
        (lambda: List([text]), r"List\[0\]: the text"),
        (lambda: Dict({"k": [text]}), r"Dict\['k'\]\[0\]: the text"),
        (lambda: Dict({text: 1}), "Dict: the key"),
        (lambda: Dict({"k": {text: 1}}), r"Dict\['k'\]: the key"),
        (lambda: FrozenDict({text: Int(1)}), "the FrozenDict key"),
        (lambda: Group(text), "the label of a Group"),
    ]
    for make, where in cases:
        with pytest.raises(InvalidValueError, match=f"{where}.*{problem}"):
            make()


@pytest.mark.parametrize("field", ["label", "description"])
@pytest.mark.parametrize("value", [None, 0, b""], ids=repr)
def test_a_label_or_description_that_is_not_text_is_refused_at_creation(
    field: str, value: object
) -> None:
    with pytest.raises(TypeError, match=f"the {field} of a Int must be a str"):
        Int(1, **{field: value})


def test_a_label_set_later_follows_the_same_rule() -> None:
    node = Int(1)
    with pytest.raises(InvalidValueError, match="NUL"):
        node.label = NUL_TEXT
    with pytest.raises(InvalidValueError, match="300 characters; at most 255"):
        node.label = "x" * 300
    assert node.label == ""


def test_a_label_of_255_characters_is_stored_and_one_of_256_is_refused(
    any_runtime: Runtime,
) -> None:
    node = Int(1, label="é" * 255).store()
    assert load_node(node.pk).label == "é" * 255
    with pytest.raises(InvalidValueError, match="256 characters; at most 255"):
        Int(1, label="x" * 256)
    with pytest.raises(InvalidValueError, match="256 characters"):
        Group("g" * 256)


def test_text_without_nul_or_surrogates_is_stored_exactly(any_runtime: Runtime) -> None:
    text = "tab\there, emoji 🧪, cjk 漢字, backslash \\x00 literally, newline\n"
    node = Str(text, label="🧪", description=text).store()
    loaded = load_node(node.pk)
    assert (loaded.value, loaded.label, loaded.description) == (text, "🧪", text)


# Engine text: encoded, never refused, never dropped.


def test_encoding_escapes_nul_and_lone_surrogates_and_leaves_other_text_alone() -> None:
    assert encode_text("a\x00b") == "a\\x00b"
    assert encode_text("caf\udce9") == "caf\\udce9"
    assert encode_text("\ud800\x00é") == "\\ud800\\x00é"
    assert encode_text("plain é 🧪") == "plain é 🧪"


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("boom \x00 here", "boom \\x00 here"), ("bad \udce9 byte", "bad \\udce9 byte")],
)
def test_a_process_exception_with_nul_or_a_surrogate_is_stored_escaped(
    any_runtime: Runtime, raw: str, stored: str
) -> None:
    @workfunction
    def fails(x: Int) -> Int:
        raise RuntimeError(raw)

    with pytest.raises(RuntimeError):
        any_runtime.run(fails, Int(1))
    node = _last_process(any_runtime)
    assert node.is_excepted
    assert node.exception is not None
    assert stored in node.exception


def test_process_attributes_are_encoded_when_set() -> None:
    node = Calculation()
    update = node.set_process_attributes(exit_message="a\x00b", nested={"k\x00": ["\udce9"]})
    assert update.attributes["exit_message"] == "a\\x00b"
    assert update.attributes["nested"] == {"k\\x00": ["\\udce9"]}


def test_a_process_attribute_outside_the_number_rule_is_refused_and_nothing_changes() -> None:
    node = Calculation()
    node.set_process_attributes(exit_status=0)
    with pytest.raises(InvalidValueError, match="exit_status'\\]: the number is an integer of 100"):
        node.set_process_attributes(exit_status=2**99)
    assert node.attributes == {"exit_status": 0}


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("line \udce9 here", "line \\udce9 here"), ("nul \x00 here", "nul \\x00 here")],
)
def test_a_report_line_with_a_surrogate_or_nul_is_stored_escaped_not_dropped(
    any_runtime: Runtime, raw: str, stored: str
) -> None:
    @workfunction
    def reports(x: Int) -> Int:
        logging.getLogger(REPORT_LOGGER_NAME).info(raw)
        return Int(x.value + 1)

    _result, node = any_runtime.run_get_node(reports, Int(1))
    any_runtime.backend.sync()
    assert [entry.message for entry in node.logs] == [stored]  # type: ignore[attr-defined]


def _last_process(rt: Runtime) -> Any:
    from tests.helpers import last_process

    return last_process(rt)
