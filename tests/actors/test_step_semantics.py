"""What a step, a workfunction and the outline may do, as aiida does it: the defects aiida-core's
and plumpy's suites found (varargs labels, exit codes from workfunctions, nodes in ctx, outline
callables, report read-your-writes, mappings as ToContext, submit inside a step)."""

from __future__ import annotations

import pytest

from actors import (
    ActorError,
    ExitCode,
    InputValidationError,
    SpecError,
    WaitError,
    WorkChain,
    if_,
    submit,
    while_,
    workfunction,
)
from actors.runtime import Runtime
from actors.workchain import WorkChainSpec
from provenance import Dict, Int, List, ProcessState
from tests.helpers import count_nodes, process_nodes


@workfunction
def args_and_args_0(*args, args_0=None):
    total = Int(0)
    for value in args:
        total = total + value
    return total


def test_a_varargs_label_that_clashes_with_a_parameter_is_refused_before_anything_is_stored(
    runtime: Runtime,
) -> None:
    before = count_nodes(runtime)

    with pytest.raises(InputValidationError, match="args_0 is also the name of a parameter"):
        args_and_args_0(Int(1), Int(2), Int(3))

    assert count_nodes(runtime) == before


@workfunction
def teapot(x):
    return ExitCode(418, "TEAPOT", "I am a teapot")


def test_a_workfunction_returning_an_exit_code_finishes_with_it(runtime: Runtime) -> None:
    result, node = teapot.run_get_node(Int(1))

    assert result is None
    assert node.process_state is ProcessState.FINISHED
    assert (node.exit_status, node.exit_message) == (418, "I am a teapot")
    assert node.get_outputs_dict() == {}


@workfunction
def negative_exit(x):
    return ExitCode(-3)


def test_a_workfunction_returning_an_invalid_exit_code_ends_excepted_saying_why(
    runtime: Runtime,
) -> None:
    with pytest.raises(SpecError, match="outside 0"):
        negative_exit(Int(1))


class KeepsUnstored(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.outline(cls.put, cls.check)
        spec.output("seen", valid_type=Int)

    def put(self) -> None:
        self.ctx.single = Int(5)
        self.ctx.nested = {"items": [Int(6), (Int(7),)], "plain": 3}

    def check(self) -> None:
        nodes = [self.ctx.single, *self.ctx.nested["items"][:1], self.ctx.nested["items"][1][0]]
        assert all(node.is_stored for node in nodes), [n.is_stored for n in nodes]
        self.out("seen", self.ctx.single)


def test_unstored_nodes_put_in_ctx_are_stored_before_the_next_step(runtime: Runtime) -> None:
    outputs, node = runtime.run_get_node(KeepsUnstored)

    assert node.process_state is ProcessState.FINISHED, node.exception
    assert outputs["seen"].is_stored


def test_a_step_that_cannot_be_called_with_just_self_is_refused_at_definition() -> None:
    with pytest.raises(SpecError, match=r"Bad: .*<lambda>\(x, y\) cannot be called with just"):

        class Bad(WorkChain):
            @classmethod
            def define(cls, spec: WorkChainSpec) -> None:
                super().define(spec)
                spec.outline(lambda x, y: None)


def test_a_condition_that_cannot_be_called_with_just_self_is_refused_at_definition() -> None:
    with pytest.raises(SpecError, match="while_ condition"):
        while_(lambda: True)
    with pytest.raises(SpecError, match="if_ condition"):
        if_(lambda self, other: True)


class ReportsThenReads(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.outline(cls.say, cls.read)
        spec.output("lines", valid_type=Int)

    def say(self) -> None:
        self.report("first step says %s", "hello")

    def read(self) -> None:
        lines = [entry.message for entry in self.node.logs]
        assert any("first step says hello" in line for line in lines), lines
        self.out("lines", Int(len(lines)))


def test_a_report_of_one_step_is_in_the_node_logs_in_the_next(runtime: Runtime) -> None:
    outputs, node = runtime.run_get_node(ReportsThenReads)

    assert node.process_state is ProcessState.FINISHED, node.exception
    assert outputs["lines"] == 1


class ReturnsEmptyMapping(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.outline(cls.nothing, cls.after)
        spec.output("ran", valid_type=Int)

    def nothing(self) -> dict[str, object]:
        return {}

    def after(self) -> None:
        self.out("ran", Int(1))


class Leaf(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.outline(cls.go)
        spec.output("value", valid_type=Int)

    def go(self) -> None:
        self.out("value", Int(3))


class ReturnsMappingOfChildren(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.outline(cls.launch, cls.collect)
        spec.output("value", valid_type=Int)

    def launch(self) -> dict[str, object]:
        return {"leaf": self.submit(Leaf)}

    def collect(self) -> None:
        assert self.ctx.leaf.process_state is ProcessState.FINISHED
        self.out("value", self.ctx.leaf.get_outputs_dict()["value"])


class ReturnsMappingOfPlainValues(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.outline(cls.launch)

    def launch(self) -> dict[str, object]:
        return {"leaf": "not a process"}


def test_a_step_returning_an_empty_mapping_awaits_nothing(runtime: Runtime) -> None:
    outputs, node = runtime.run_get_node(ReturnsEmptyMapping)

    assert node.process_state is ProcessState.FINISHED, node.exception
    assert outputs["ran"] == 1


def test_a_step_returning_a_mapping_of_children_awaits_them_into_ctx(runtime: Runtime) -> None:
    outputs, node = runtime.run_get_node(ReturnsMappingOfChildren)

    assert node.process_state is ProcessState.FINISHED, node.exception
    assert outputs["value"] == 3
    assert [child.process_label for child in node.called] == ["Leaf"]


def test_a_step_returning_a_mapping_of_what_cannot_be_awaited_says_so(runtime: Runtime) -> None:
    with pytest.raises(WaitError, match="cannot wait on 'not a process'"):
        runtime.run(ReturnsMappingOfPlainValues)


class SubmitsWithTheModuleFunction(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.outline(cls.launch)

    def launch(self) -> None:
        submit(Leaf)


def test_the_module_submit_inside_a_step_is_refused_pointing_at_self_submit(
    runtime: Runtime,
) -> None:
    with pytest.raises(ActorError, match=r"use self\.submit"):
        runtime.run(SubmitsWithTheModuleFunction)

    labels = [path.name for path in runtime.running_directory.glob("*") if path.is_file()]
    assert labels == [], "no orphan was queued for the daemon"
    [parent] = process_nodes(runtime)  # no Leaf: nothing was launched
    assert parent.process_label == "SubmitsWithTheModuleFunction"
    assert parent.process_state is ProcessState.EXCEPTED
    assert "self.submit" in (parent.exception or "")


def test_data_nodes_in_ctx_lists_and_dicts_count_as_stored_list_nodes(runtime: Runtime) -> None:
    """A List or Dict node in ctx is stored whole (it is one node)."""

    class KeepsContainers(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.outline(cls.put, cls.check)

        def put(self) -> None:
            self.ctx.numbers = List([1, 2])
            self.ctx.table = Dict({"a": 1})

        def check(self) -> None:
            assert self.ctx.numbers.is_stored
            assert self.ctx.table.is_stored

    _outputs, node = runtime.run_get_node(KeepsContainers)
    assert node.process_state is ProcessState.FINISHED, node.exception
