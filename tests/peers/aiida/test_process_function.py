"""aiida-core's process function tests, translated to workactors' ``@workfunction``.

Origin: github.com/aiidateam/aiida-core, tests/engine/test_process_function.py. aiida has two
kinds, calcfunction (creates data) and workfunction (only returns data); workactors has one
``@workfunction`` that may do both, so tests of either kind port to it. Tests of what
workactors does not have (source code in the repository, hashes and caching, ``metadata``
label/description, automatic serialization of Python values, nested output namespaces, type
hint inference) are listed in tests/peers/README.md.
"""

from __future__ import annotations

from typing import Any

import pytest

from actors import ExitCode, InputValidationError, Runtime, run, run_get_node, workfunction
from provenance import Int, LinkType, ProcessState, Str, WorkCalculation

DEFAULT_INT = 256


@workfunction
def function_return_input(data):
    return data


@workfunction
def function_variadic_arguments(str_a, str_b, *args):
    return Str(" ".join(e.value for e in (str_a, str_b, *args)))


@workfunction
def function_variadic_arguments_and_keywords(*args, str_a, str_b):
    return Str(" ".join(e.value for e in (*args, str_a, str_b)))


@workfunction
def function_variadic_arguments_label_overlap(args_0, *args):
    total = args_0
    for value in args:
        total = total + value
    return total


@workfunction
def function_args(data_a):
    return data_a


@workfunction
def function_args_with_default(data_a=lambda: Int(DEFAULT_INT)):
    return data_a


@workfunction
def function_with_none_default(int_a, int_b, int_c=None):
    if int_c is not None:
        return int_a + int_b + int_c
    return int_a + int_b


@workfunction
def function_kwargs(**kwargs):
    return kwargs


@workfunction
def function_varargs_kwargs(*args, **kwargs):
    results = dict(kwargs)
    for index, arg in enumerate(args):
        results[f"arg_{index}"] = arg
    return results


@workfunction
def function_args_and_kwargs(data_a, **kwargs):
    result = {"data_a": data_a}
    result.update(kwargs)
    return result


@workfunction
def function_args_and_default(data_a, data_b=lambda: Int(DEFAULT_INT)):
    return {"data_a": data_a, "data_b": data_b}


@workfunction
def function_default_label():
    return None


@workfunction
def function_exit_code(exit_status, exit_message):
    return ExitCode(exit_status.value, "", exit_message.value)


@workfunction
def function_excepts(exception):
    raise RuntimeError(exception.value)


@workfunction
def function_out_unstored():
    return Int(DEFAULT_INT)


@workfunction
def add(data_a, data_b):
    return data_a + data_b


@workfunction
def mul(data_a, data_b):
    return Int(data_a.value * data_b.value)


@workfunction
def add_mul_wf(data_a, data_b, data_c):
    return mul(add(data_a, data_b), data_c)


def test_properties() -> None:
    """test_properties: the decorated function says it is one, and its node class."""
    assert function_return_input.is_workfunction
    assert function_return_input.process_class.node_class is WorkCalculation


def test_process_state(runtime: Runtime) -> None:
    """test_process_state and test_exit_status: a plain run ends FINISHED, status 0."""
    _, node = function_args_with_default.run_get_node()

    assert node.is_terminated
    assert not node.is_excepted
    assert not node.is_killed
    assert node.process_state is ProcessState.FINISHED
    assert node.is_finished_ok
    assert node.exit_status == 0


def test_process_type(runtime: Runtime) -> None:
    """test_process_type: the node names the module and function (``process_class``)."""
    _, node = function_args.run_get_node(Int(1))

    assert node.process_class.endswith(f"{function_args.__module__}.function_args")
    assert node.process_label == "function_args"


def test_function_varargs(runtime: Runtime) -> None:
    """test_function_varargs: ``*args`` become inputs ``args_0``, ``args_1``..."""
    result, node = function_variadic_arguments.run_get_node(
        Str("a"), Str("b"), *(Str("c"), Str("d"))
    )

    assert isinstance(result, Str)
    assert result.value == "a b c d"
    inputs = node.get_inputs_dict()
    assert {label: value.value for label, value in inputs.items()} == {
        "str_a": "a",
        "str_b": "b",
        "args_0": "c",
        "args_1": "d",
    }


def test_function_varargs_label_overlap(runtime: Runtime) -> None:
    """test_function_varargs_label_overlap: a ``*args`` label that is a parameter's name is
    refused (aiida: RuntimeError; workactors: InputValidationError, before anything is
    stored)."""
    with pytest.raises(InputValidationError, match="args_0 is also the name of a parameter"):
        function_variadic_arguments_label_overlap.run_get_node(Int(1), *(Int(2), Int(3)))


def test_function_variadic_arguments_and_keywords(runtime: Runtime) -> None:
    """test_function_variadic_arguments_and_keywords: keyword-only after ``*args``."""
    result = function_variadic_arguments_and_keywords(
        *(Str("a"), Str("b")), str_a=Str("c"), str_b=Str("d")
    )
    assert result.value == "a b c d"


def test_function_args(runtime: Runtime) -> None:
    """test_function_args: a missing argument is a ValueError; given, it is returned."""
    with pytest.raises(ValueError, match="missing a required argument"):
        function_args()

    result = function_args(data_a=Int(1))
    assert isinstance(result, Int)
    assert result == 1


def test_function_args_with_default(runtime: Runtime) -> None:
    """test_function_args_with_default: a default given as a factory of a node."""
    result = function_args_with_default()
    assert isinstance(result, Int)
    assert result == Int(DEFAULT_INT)

    result = function_args_with_default(data_a=Int(1))
    assert result == 1


def test_function_with_none_default(runtime: Runtime) -> None:
    """test_function_with_none_default (and test_input_serialization_none_default): a
    ``None`` default, left out or given explicitly."""
    assert function_with_none_default(Int(1), Int(2)) == Int(3)
    assert function_with_none_default(Int(1), Int(2), Int(3)) == Int(6)
    assert function_with_none_default(int_a=Int(1), int_b=Int(2), int_c=None) == 3


def test_function_kwargs(runtime: Runtime) -> None:
    """test_function_kwargs: ``**kwargs`` are inputs by their names; positional arguments
    are refused (aiida: TypeError; workactors: InputValidationError, a ValueError)."""
    result, node = function_kwargs.run_get_node()
    assert result == {}
    assert node.get_inputs() == []

    kwargs = {"data_a": Int(DEFAULT_INT)}
    result, node = function_kwargs.run_get_node(**kwargs)
    assert result == kwargs
    assert len(node.get_inputs()) == 1

    with pytest.raises(InputValidationError, match="too many positional arguments"):
        function_kwargs.run_get_node(Int(1))
    with pytest.raises(InputValidationError, match="too many positional arguments"):
        function_kwargs.run_get_node(Int(1), b=Int(2))


def test_function_args_and_kwargs(runtime: Runtime) -> None:
    """test_function_args_and_kwargs."""
    args = (Int(DEFAULT_INT),)
    assert function_args_and_kwargs(*args) == {"data_a": args[0]}
    assert function_args_and_kwargs(*args, data_b=Int(1)) == {"data_a": args[0], "data_b": 1}


def test_function_args_and_kwargs_default(runtime: Runtime) -> None:
    """test_function_args_and_kwargs_default: a factory default, left out or given."""
    result = function_args_and_default(Int(DEFAULT_INT))
    assert result == {"data_a": DEFAULT_INT, "data_b": DEFAULT_INT}

    result = function_args_and_default(Int(DEFAULT_INT), Int(1))
    assert result == {"data_a": DEFAULT_INT, "data_b": 1}


def test_a_default_factory_gives_each_call_its_own_input_node(runtime: Runtime) -> None:
    """The factory default of test_function_args_with_default is an input of the call (as in
    aiida), and every call gets its own node."""
    _, first = function_args_with_default.run_get_node()
    _, second = function_args_with_default.run_get_node()

    a, b = first.get_inputs_dict()["data_a"], second.get_inputs_dict()["data_a"]
    assert a.value == b.value == DEFAULT_INT
    assert a.uuid != b.uuid


def test_function_varargs_and_kwargs(runtime: Runtime) -> None:
    """test_function_varargs_and_kwargs."""
    results = function_varargs_kwargs(*(Str("a"), Str("b")), kwarg_c=Str("c"), kwarg_d=Str("d"))

    assert sorted(results) == ["arg_0", "arg_1", "kwarg_c", "kwarg_d"]
    assert [results[key].value for key in sorted(results)] == ["a", "b", "c", "d"]


def test_function_args_passing_kwargs(runtime: Runtime) -> None:
    """test_function_args_passing_kwargs: an unknown keyword is refused (a ValueError)."""
    with pytest.raises(ValueError, match="unexpected keyword argument 'data_b'"):
        function_args(data_a=Int(1), data_b=Int(1))


def test_function_default_label(runtime: Runtime) -> None:
    """test_function_default_label: the process label is the function's name (workactors has
    no metadata to override it with)."""
    _, node = function_default_label.run_get_node()
    assert node.process_label == "function_default_label"


def test_run_launchers(runtime: Runtime) -> None:
    """test_run_launchers: ``run`` and ``run_get_node`` take a workfunction."""
    assert run(function_return_input, Int(1)) == 1
    result, node = run_get_node(function_return_input, Int(2))
    assert result == 2
    assert isinstance(node, WorkCalculation)


def test_submit_launchers(runtime: Runtime) -> None:
    """test_submit_launchers: an importable workfunction is submitted for the daemon; its node
    is returned at once and its checkpoint waits in the running folder."""
    node = runtime.submit(add, Int(1), Int(2))

    assert isinstance(node, WorkCalculation)
    assert node.process_state is ProcessState.CREATED
    assert any(str(node.pk) in path.name for path in runtime.running_directory.iterdir())


def test_return_exit_code(runtime: Runtime) -> None:
    """test_return_exit_code: returning ExitCode(418, ...) ends FINISHED with it."""
    _, node = function_exit_code.run_get_node(
        exit_status=Int(418), exit_message=Str("I am a teapot")
    )

    assert node.process_state is ProcessState.FINISHED
    assert not node.is_finished_ok
    assert node.exit_status == 418
    assert node.exit_message == "I am a teapot"


def test_normal_exception(runtime: Runtime) -> None:
    """test_normal_exception: the exception ends the node EXCEPTED, the traceback stored."""
    with pytest.raises(RuntimeError, match="This process function excepted"):
        function_excepts(exception=Str("This process function excepted"))


def test_function_out_unstored(runtime: Runtime) -> None:
    """test_function_out_unstored, a deliberate difference: an aiida workfunction may not
    create data (a calcfunction must); workactors' single kind stores the node it returns and
    links it CREATE."""
    result, node = function_out_unstored.run_get_node()

    assert result.is_stored
    assert node.get_outputs_dict(link_type=LinkType.CREATE) == {"_return": result}


def test_simple_workflow(runtime: Runtime) -> None:
    """test_simple_workflow: workfunctions chained inside a workfunction, each CALLed."""
    result, node = add_mul_wf.run_get_node(Int(3), Int(4), Int(5))

    assert result == (3 + 4) * 5
    assert isinstance(node, WorkCalculation)
    assert [child.process_label for child in node.called] == ["add", "mul"]


def test_input_validation(runtime: Runtime) -> None:
    """test_input_validation: a non-storable value, also inside a dict, is refused."""
    with pytest.raises(ValueError, match="must be Data"):
        function_kwargs.run_get_node(namespace={"valid": Int(1), "invalid": 1})
    with pytest.raises(ValueError, match="must be Data"):
        function_args(1)


def test_invalid_outputs(runtime: Runtime) -> None:
    """test_invalid_outputs, a difference: aiida refuses one new node returned under two labels
    (a node has one CREATE link). workactors creates it once and returns it under the second
    label, so the graph keeps one CREATE link per node."""

    @workfunction
    def twice() -> dict[str, Any]:
        node = Int(2)
        return {"a": node, "b": node}

    _, node = twice.run_get_node()

    assert set(node.get_outputs_dict(link_type=LinkType.CREATE)) == {"a"}
    assert set(node.get_outputs_dict(link_type=LinkType.RETURN)) == {"b"}


def test_nested_namespace_as_flat_keywords(runtime: Runtime) -> None:
    """test_nested_namespace, flat: ``**kwargs`` returned as is. Nested namespaces of inputs
    are not workactors' (a dict of nodes is refused, see test_input_validation)."""
    inputs = {"first": Int(1), "second": Str("two")}
    results, node = function_kwargs.run_get_node(**inputs)

    assert results == inputs
    assert set(node.get_outputs_dict()) == set(inputs)
