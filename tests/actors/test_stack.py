"""ProcessStack: the process whose step runs in the caller's context, kept by the registry."""

from __future__ import annotations

from typing import ClassVar

import pytest

from actors import Process, ProcessSpec, ProcessStack, Runtime, StackError, workfunction
from actors.runtimes import step_runtime, step_scope
from actors.test_utils import DummyProcess
from provenance import Int


class Introspective(Process):
    seen: ClassVar[dict[str, object]] = {}

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.dynamic_output()

    def run(self) -> None:
        Introspective.seen = {
            "top": ProcessStack.top(),
            "pid": ProcessStack.get_active_process_id(),
            "node": ProcessStack.get_active_process_calc_node(),
            "inner": inner_stack(Int(1)),
        }


@workfunction
def inner_stack(x):
    stack = ProcessStack.stack()
    return {"depth": Int(len(stack)), "top": Int(stack[-1])}


def test_a_process_is_the_top_of_the_stack_inside_its_own_step(runtime: Runtime) -> None:
    _outputs, node = runtime.run_get_node(Introspective)

    seen = Introspective.seen
    assert isinstance(seen["top"], Introspective)
    assert seen["pid"] == node.pk
    assert seen["node"] is not None
    assert seen["node"].pk == node.pk


def test_a_nested_call_stacks_on_top_of_its_caller(runtime: Runtime) -> None:
    _outputs, node = runtime.run_get_node(Introspective)

    inner = Introspective.seen["inner"]
    assert isinstance(inner, dict)
    assert inner["depth"] == 2
    (called,) = node.called
    assert inner["top"] == called.pk


def test_outside_any_process_the_stack_is_empty(runtime: Runtime) -> None:
    assert ProcessStack.top() is None
    assert ProcessStack.get_active_process_id() is None
    assert ProcessStack.get_active_process_calc_node() is None


def test_push_and_pop_keep_the_callers_stack(runtime: Runtime) -> None:
    process, done = runtime.launch(DummyProcess, {})
    done.result(timeout=30)

    ProcessStack.push(process)
    assert ProcessStack.get_active_process_id() == process.pid
    assert ProcessStack.pop(process=process) == process.pid
    assert ProcessStack.get_active_process_id() is None


def test_popping_a_process_that_is_not_on_top_raises(runtime: Runtime) -> None:
    first, done_first = runtime.launch(DummyProcess, {})
    second, done_second = runtime.launch(DummyProcess, {})
    done_first.result(timeout=30)
    done_second.result(timeout=30)
    ProcessStack.push(first)
    ProcessStack.push(second)

    with pytest.raises(StackError, match=f"cannot pop process {first.pid}: the top of the stack"):
        ProcessStack.pop(pid=first.pid)

    assert ProcessStack.pop(pid=second.pid) == second.pid
    assert ProcessStack.pop() == first.pid
    with pytest.raises(StackError, match="empty"):
        ProcessStack.pop()


def test_pushing_an_unlaunched_process_is_refused(runtime: Runtime) -> None:
    with pytest.raises(ValueError, match="has no pid"):
        ProcessStack.push(DummyProcess())


def test_a_step_that_raises_leaves_neither_its_frame_nor_its_runtime_behind(
    runtime: Runtime,
) -> None:
    process = DummyProcess()
    process._runtime = runtime
    process.node.store()
    pid = process.pid
    assert pid is not None
    seen: list[object] = []

    def failing_step() -> None:
        with step_scope(runtime, process, (pid,)):
            seen.extend([ProcessStack.top(), ProcessStack.stack(), step_runtime.get()])
            raise ValueError("the step failed")

    with pytest.raises(ValueError, match="the step failed"):
        failing_step()
    assert seen == [process, (pid,), runtime]
    assert ProcessStack.stack() == ()
    assert step_runtime.get() is None
