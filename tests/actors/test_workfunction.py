"""Workfunctions: the seed's example, labels, several outputs, nesting, bad input."""

from __future__ import annotations

import pytest

from actors import (
    InputValidationError,
    OutputValidationError,
    Runtime,
    run,
    run_get_node,
    workfunction,
)
from provenance import Dict, Int, LinkType, ProcessState, Str, WorkCalculation, load_node
from tests.helpers import count_links, count_nodes, last_process


@workfunction
def sum(a, b):
    return a + b


@workfunction
def add_all(*values):
    total = Int(0)
    for value in values:
        total = total + value
    return total


@workfunction
def describe(name, **extras):
    return {"name": Str(f"{name.value}!"), "count": Int(len(extras))}


@workfunction
def plus_one_twice(x):
    return sum(sum(x, Int(1)), Int(1))


@workfunction
def returns_plain_value(x):
    return x.value


@workfunction
def fails(x):
    raise ZeroDivisionError(f"cannot divide {x.value} by zero")


@workfunction
def with_default(x, y=None):
    return x if y is None else x + y


def test_the_seed_example_returns_a_stored_node_linked_to_its_inputs(runtime: Runtime) -> None:
    r = sum(Int(4), Int(5))

    assert r == 9
    assert isinstance(r, Int)
    assert r.is_stored
    calculation = r.get_inputs_dict()["_return"]
    assert isinstance(calculation, WorkCalculation)
    assert calculation.get_inputs() == [4, 5]


def test_inputs_are_linked_with_the_parameter_names_as_labels(runtime: Runtime) -> None:
    _result, node = sum.run_get_node(Int(1), Int(2))

    inputs = node.get_inputs_dict(link_type=LinkType.INPUT)
    assert {label: value.value for label, value in inputs.items()} == {"a": 1, "b": 2}
    assert node.process_label == "sum"
    assert node.process_state is ProcessState.FINISHED
    assert node.exit_status == 0


def test_a_new_result_is_created_and_an_existing_one_returned(runtime: Runtime) -> None:
    created, created_node = sum.run_get_node(Int(1), Int(2))
    existing = Int(7).store()
    returned, returned_node = with_default.run_get_node(existing)

    assert created_node.get_outputs_dict(link_type=LinkType.CREATE) == {"_return": created}
    assert returned_node.get_outputs_dict(link_type=LinkType.RETURN) == {"_return": existing}
    assert returned.pk == existing.pk


def test_var_positional_arguments_are_labelled_by_position(runtime: Runtime) -> None:
    result, node = add_all.run_get_node(Int(1), Int(2), Int(3))

    assert result == 6
    assert sorted(node.get_inputs_dict()) == ["values_0", "values_1", "values_2"]


def test_keyword_arguments_and_a_dict_of_outputs(runtime: Runtime) -> None:
    result = describe(Str("x"), colour=Str("red"), size=Int(3))

    assert result == {"name": "x!", "count": 2}
    node = result["name"].get_inputs()[0]
    assert sorted(node.get_inputs_dict()) == ["colour", "name", "size"]
    assert sorted(node.get_outputs_dict()) == ["count", "name"]


def test_an_optional_parameter_may_be_left_out(runtime: Runtime) -> None:
    assert with_default(Int(2)) == 2
    assert with_default(Int(2), Int(3)) == 5


@workfunction
def ordered(first, /, second, third=None):
    """Positional-only, positional-or-keyword and optional: each may be given by position."""
    parts = [first, second] if third is None else [first, second, third]
    return Str("".join(part.value for part in parts))


def test_arguments_given_by_position_or_by_name_reach_the_same_parameters(
    runtime: Runtime,
) -> None:
    assert ordered(Str("a"), Str("b"), Str("c")) == "abc"
    assert ordered(Str("a"), third=Str("c"), second=Str("b")) == "abc"
    assert ordered(Str("a"), Str("b")) == "ab"
    result, node = ordered.run_get_node(Str("x"), Str("y"), Str("z"))
    assert result == "xyz"
    assert {label: value.value for label, value in node.get_inputs_dict().items()} == {
        "first": "x",
        "second": "y",
        "third": "z",
    }


def test_too_many_positional_arguments_are_refused_naming_the_function(runtime: Runtime) -> None:
    with pytest.raises(InputValidationError, match=r"workfunction sum\(a, b\): too many"):
        sum(Int(1), Int(2), Int(3))


def test_a_workfunction_called_inside_another_gets_a_call_link(runtime: Runtime) -> None:
    result, outer = plus_one_twice.run_get_node(Int(1))

    assert result == 3
    called = outer.called
    assert [node.process_label for node in called] == ["sum", "sum"]
    assert all(node.caller is not None and node.caller.pk == outer.pk for node in called)
    assert outer.caller is None


def test_module_level_run_takes_a_workfunction_and_its_arguments(runtime: Runtime) -> None:
    assert run(sum, Int(2), Int(3)) == 5
    result, node = run_get_node(sum, a=Int(2), b=Int(4))
    assert result == 6
    assert load_node(node.pk).process_state is ProcessState.FINISHED


def test_a_plain_python_value_is_refused_before_anything_is_stored(runtime: Runtime) -> None:
    before = count_nodes(runtime), count_links(runtime)

    with pytest.raises(InputValidationError, match=r"input 'a' must be Data, got int 4.*Int\("):
        sum(4, Int(5))

    assert (count_nodes(runtime), count_links(runtime)) == before


def test_a_wrong_number_of_arguments_is_refused_naming_the_function(runtime: Runtime) -> None:
    before = count_nodes(runtime)

    with pytest.raises(InputValidationError, match=r"workfunction sum\(a, b\): missing"):
        sum(Int(1))
    with pytest.raises(InputValidationError, match="unexpected keyword argument 'c'"):
        sum(Int(1), Int(2), c=Int(3))

    assert count_nodes(runtime) == before


def test_returning_a_plain_value_ends_excepted_with_a_clear_error(runtime: Runtime) -> None:
    with pytest.raises(OutputValidationError, match="returned int 3; return a data node"):
        returns_plain_value(Int(3))

    excepted = last_process(runtime)
    assert excepted.process_state is ProcessState.EXCEPTED
    assert "OutputValidationError" in (excepted.exception or "")


def test_an_exception_in_the_function_is_reraised_and_recorded(runtime: Runtime) -> None:
    with pytest.raises(ZeroDivisionError, match="cannot divide 3 by zero"):
        fails(Int(3))

    node = last_process(runtime)
    assert node.process_state is ProcessState.EXCEPTED
    assert "ZeroDivisionError: cannot divide 3 by zero" in (node.exception or "")
    assert node.get_inputs_dict() == {"x": 3}


def test_dict_inputs_are_accepted_as_data_nodes(runtime: Runtime) -> None:
    @workfunction
    def keys(d):
        return Int(len(d))

    assert keys(Dict({"a": 1, "b": 2})) == 2
