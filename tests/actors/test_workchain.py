"""WorkChains: outlines, ctx, children awaited through ToContext, exit codes, failures."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from actors import (
    ContextError,
    Outputs,
    ProcessStack,
    ProcessState,
    Runtime,
    RuntimeClosedError,
    SpecError,
    ToContext,
    UpdateContext,
    WaitError,
    WorkChain,
    append_,
    if_,
    return_,
    to_context,
    while_,
)
from actors.workchain import WorkChainSpec
from provenance import Int, LinkType, List, Str, WorkCalculation, load_node
from tests.actors.workchains import (
    AwaitsFailing,
    Branches,
    Double,
    FanOut,
    Loop,
    Returns,
    StopsEarly,
)
from tests.helpers import last_process


def test_steps_run_in_order_each_exactly_once(runtime: Runtime) -> None:
    result = runtime.run(Loop, n=Int(2))
    assert result["steps"].value == ["setup", "tick", "tock", "tick", "tock", "finish"]
    assert result["count"].value == 2


def test_a_while_whose_condition_is_false_never_runs_its_body(runtime: Runtime) -> None:
    result = runtime.run(Loop, n=Int(0))
    assert result["steps"].value == ["setup", "finish"]


@pytest.mark.parametrize(
    ("x", "branch", "conditions"),
    [
        (1, "one", ["is_one"]),
        (2, "two", ["is_one", "is_two"]),
        (5, "many", ["is_one", "is_two", "is_positive"]),
        (-3, "other", ["is_one", "is_two", "is_positive"]),
    ],
)
def test_an_elif_chain_takes_exactly_one_branch_and_stops_evaluating_at_it(
    runtime: Runtime, x: int, branch: str, conditions: list[str]
) -> None:
    taken = runtime.run(Branches, x=Int(x))["taken"].value
    assert taken == ["start", branch, *conditions]


def test_ctx_survives_between_steps_with_attribute_and_item_access(runtime: Runtime) -> None:
    class Counter(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.output("total", valid_type=Int)
            spec.outline(cls.first, cls.second)

        def first(self) -> None:
            self.ctx.a = 1
            self.ctx["b"] = 2

        def second(self) -> None:
            self.out("total", Int(self.ctx["a"] + self.ctx.b))

    assert runtime.run(Counter)["total"].value == 3


def test_a_work_chain_defined_inside_a_function_runs_blockingly(runtime: Runtime) -> None:
    class Local(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.output("n", valid_type=Int)
            spec.outline(cls.launch, cls.done)

        def launch(self) -> ToContext:
            return ToContext(child=self.submit(Double, x=Int(4)))

        def done(self) -> None:
            self.out("n", self.ctx.child.get_outputs_dict()["y"])

    assert "<locals>" in Local.class_path()
    assert runtime.run(Local)["n"].value == 8


def test_a_step_returning_an_exit_code_stops_the_outline(runtime: Runtime) -> None:
    _result, node = runtime.run_get_node(StopsEarly)
    assert node.process_state is ProcessState.FINISHED
    assert node.exit_status == 410
    assert node.exit_message == "stopped on purpose"
    assert [entry.message for entry in node.logs] == ["[StopsEarly|first] first"]


def test_return_stops_the_outline_from_inside_a_loop(runtime: Runtime) -> None:
    result, node = runtime.run_get_node(Returns)
    assert result["reached"].value == 3
    assert node.process_state is ProcessState.FINISHED
    assert node.exit_status == 0


def test_return_with_an_exit_code_finishes_with_that_status(runtime: Runtime) -> None:
    class Early(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.exit_code(401, "ERROR_EARLY", "left early")
            spec.outline(cls.first, if_(cls.yes)(return_(spec.exit_codes.ERROR_EARLY)), cls.never)

        def first(self) -> None:
            pass

        def yes(self) -> bool:
            return True

        def never(self) -> None:
            raise AssertionError("unreachable")

    _result, node = runtime.run_get_node(Early)
    assert (node.process_state, node.exit_status) == (ProcessState.FINISHED, 401)


def test_a_condition_returning_a_non_bool_is_an_error_naming_the_method(
    runtime: Runtime,
) -> None:
    class Sloppy(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.outline(while_(cls.items_left)(cls.body))

        def items_left(self) -> Any:
            return [1, 2]

        def body(self) -> None:
            pass

    with pytest.raises(SpecError, match=r"Sloppy\.items_left returned list \[1, 2\]"):
        runtime.run(Sloppy)
    assert last_process(runtime).process_state is ProcessState.EXCEPTED


def test_a_step_returning_something_unexpected_names_the_step(runtime: Runtime) -> None:
    class Confused(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.outline(cls.compute)

        def compute(self) -> Any:
            return "done"

    with pytest.raises(SpecError, match=r"Confused\.compute returned 'done'"):
        runtime.run(Confused)


def test_a_work_chain_without_an_outline_is_refused_before_anything_is_stored(
    runtime: Runtime,
) -> None:
    class NoOutline(WorkChain):
        pass

    with pytest.raises(SpecError, match="NoOutline has no outline"):
        runtime.run(NoOutline)
    with runtime.storage.read_session() as session:
        from sqlalchemy import func, select

        from provenance.models import DbNode

        assert session.execute(select(func.count(DbNode.id))).scalar_one() == 0


def test_an_exception_in_a_step_ends_excepted_with_the_traceback(runtime: Runtime) -> None:
    class Broken(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.outline(cls.fine, cls.broken)

        def fine(self) -> None:
            pass

        def broken(self) -> None:
            raise KeyError("missing parameter")

    with pytest.raises(KeyError, match="missing parameter"):
        runtime.run(Broken)
    node = last_process(runtime)
    assert node.process_state is ProcessState.EXCEPTED
    assert "in broken" in (node.exception or "")
    assert "KeyError: 'missing parameter'" in (node.exception or "")


def test_a_parent_awaiting_a_child_that_excepts_sees_it_excepted_and_does_not_hang(
    runtime: Runtime,
) -> None:
    result, node = runtime.run_get_node(AwaitsFailing)
    assert result["child_state"].value == "excepted"
    (child,) = node.called
    assert child.process_state is ProcessState.EXCEPTED
    assert "ValueError: the child broke" in (child.exception or "")


def test_children_launched_in_one_step_are_gathered_in_submission_order(
    runtime: Runtime,
) -> None:
    result, node = runtime.run_get_node(FanOut, n=Int(20))
    assert result["values"].value == [2 * index for index in range(20)]
    called = node.called
    assert len(called) == 20
    assert all(child.process_state is ProcessState.FINISHED for child in called)


def test_children_are_linked_by_call_from_their_parent(runtime: Runtime) -> None:
    _result, node = runtime.run_get_node(FanOut, n=Int(2))
    assert isinstance(node, WorkCalculation)
    calls = node.get_outputs_dict(LinkType.CALL)
    assert len(calls) == 1  # both links are labelled CALL
    assert {child.caller.pk for child in node.called if child.caller} == {node.pk}


def test_outputs_of_a_child_arrive_as_a_dict(runtime: Runtime) -> None:
    class TakesOutputs(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.output("y", valid_type=Int)
            spec.outline(cls.launch, cls.collect)

        def launch(self) -> ToContext:
            return ToContext(result=Outputs(self.submit(Double, x=Int(21))))

        def collect(self) -> None:
            assert set(self.ctx.result) == {"y"}
            self.out("y", self.ctx.result["y"])

    assert runtime.run(TakesOutputs)["y"].value == 42


def test_the_module_to_context_and_insert_intersteps_await_like_ToContext(
    runtime: Runtime,
) -> None:
    class Manual(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.output("sum", valid_type=Int)
            spec.outline(cls.launch, cls.collect)

        def launch(self) -> None:
            first = self.submit(Double, x=Int(1))
            second = self.submit(Double, x=Int(2))
            for interstep in to_context(first=first):
                self.insert_intersteps(interstep)
            self.insert_intersteps(UpdateContext("second", second))

        def collect(self) -> None:
            total = sum(self.ctx[key].get_outputs_dict()["y"].value for key in ("first", "second"))
            self.out("sum", Int(total))

    assert runtime.run(Manual)["sum"].value == 6


def test_a_bare_barrier_holds_the_next_step_until_the_child_ends(runtime: Runtime) -> None:
    class Barrier(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.output("state", valid_type=Str)
            spec.outline(cls.launch, cls.check)

        def launch(self) -> None:
            self.ctx.child = self.submit(Double, x=Int(1))
            self.insert_barrier(self.ctx.child)

        def check(self) -> None:
            self.out("state", Str(self.ctx.child.process_state.value))

    assert runtime.run(Barrier)["state"].value == "finished"


def test_removing_a_barrier_that_was_never_inserted_is_an_error(runtime: Runtime) -> None:
    class RemovesUnknown(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.outline(cls.remove)

        def remove(self) -> None:
            child = self.submit(Double, x=Int(1))
            self.insert_barrier(child)
            self.remove_barrier(child)
            self.remove_barrier(child)

    with pytest.raises(WaitError, match=r"no barrier on process \d+ to remove"):
        runtime.run(RemovesUnknown)


def test_waiting_on_something_that_is_not_a_process_is_refused_in_the_step(
    runtime: Runtime,
) -> None:
    class WaitsOnData(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.outline(cls.wait)

        def wait(self) -> ToContext:
            return ToContext(value=Int(3))

    with pytest.raises(WaitError, match=r"cannot wait on Int\(3\): pass what self.submit"):
        runtime.run(WaitsOnData)


def test_awaiting_a_process_that_already_terminated_continues_at_once(runtime: Runtime) -> None:
    _result, done_node = runtime.run_get_node(Double, x=Int(5))

    class Late(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.output("y", valid_type=Int)
            spec.outline(cls.wait, cls.collect)

        def wait(self) -> ToContext:
            return ToContext(old=load_node(done_node.pk or 0))

        def collect(self) -> None:
            self.out("y", self.ctx.old.get_outputs_dict()["y"])

    assert runtime.run(Late)["y"].value == 10


def test_append_to_a_ctx_key_that_is_not_a_list_is_an_error(runtime: Runtime) -> None:
    class Clash(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.outline(cls.launch, cls.never)

        def launch(self) -> ToContext:
            self.ctx.items = "not a list"
            return ToContext(items=append_(self.submit(Double, x=Int(1))))

        def never(self) -> None:
            raise AssertionError("unreachable")

    with pytest.raises(WaitError, match=r"append_ to ctx\.items, which holds str"):
        runtime.run(Clash)


def test_only_picklable_values_go_into_ctx_and_the_error_names_the_key(
    runtime: Runtime,
) -> None:
    class Unpicklable(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.outline(cls.store_lock)

        def store_lock(self) -> None:
            self.ctx.lock = threading.Lock()

    with pytest.raises(ContextError, match=r"ctx\.lock = lock .* cannot be saved in a checkpoint"):
        runtime.run(Unpicklable)


def test_the_top_of_the_stack_is_the_work_chain_inside_its_steps(runtime: Runtime) -> None:
    seen: list[tuple[int | None, int | None]] = []

    class Introspective(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.outline(cls.first, cls.launch, cls.second)

        def first(self) -> None:
            seen.append((ProcessStack.get_active_process_id(), self.pid))

        def launch(self) -> ToContext:
            return ToContext(child=self.submit(Double, x=Int(1)))

        def second(self) -> None:
            seen.append((ProcessStack.get_active_process_id(), self.pid))

    runtime.run(Introspective)
    assert len(seen) == 2
    assert all(top == pid for top, pid in seen)
    assert ProcessStack.get_active_process_id() is None


def test_a_work_chain_node_records_its_outputs_and_inputs(runtime: Runtime) -> None:
    result, node = runtime.run_get_node(Loop, n=Int(1))
    assert isinstance(node, WorkCalculation)
    assert node.process_label == "Loop"
    assert node.get_inputs_dict()["n"].value == 1
    assert node.get_outputs_dict()["count"].pk == result["count"].pk


def test_the_registry_holds_no_entry_after_a_thousand_work_chains(runtime: Runtime) -> None:
    for _ in range(1000):
        runtime.run(Loop, n=Int(0))
    runtime.run(FanOut, n=Int(3))
    assert set(runtime.registry_sizes().values()) == {0}


def test_work_chains_run_on_postgresql(pg_runtime: Runtime) -> None:
    result = pg_runtime.run(FanOut, n=Int(3))
    assert result["values"].value == [0, 2, 4]
    assert pg_runtime.run(Loop, n=Int(2))["count"].value == 2


def test_list_inputs_are_plain_data_nodes(runtime: Runtime) -> None:
    assert isinstance(runtime.run(FanOut, n=Int(0))["values"], List)


def test_a_work_chain_may_still_launch_children_while_its_runtime_shuts_down(home: Path) -> None:
    from tests.actors.workchains import hold

    tag = uuid.uuid4().hex
    reached, release = hold(tag)

    class LateLauncher(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.output("y", valid_type=Int)
            spec.outline(cls.wait_for_shutdown, cls.launch, cls.collect)

        def wait_for_shutdown(self) -> None:
            reached.set()
            assert release.wait(10)

        def launch(self) -> ToContext:
            return ToContext(child=self.submit(Double, x=Int(5)))

        def collect(self) -> None:
            self.out("y", self.ctx.child.get_outputs_dict()["y"])

    rt = Runtime(home)
    _process, done = rt.launch(LateLauncher, {})
    assert reached.wait(10)
    stopping = threading.Thread(target=rt.shutdown)
    stopping.start()  # waits for the running work chain, which launches a child meanwhile
    release.set()
    stopping.join(30)
    assert done.result(timeout=10)["y"].value == 10
    with pytest.raises(RuntimeClosedError):
        rt.launch(Double, {"x": Int(1)})


def test_a_step_may_be_named_step(runtime: Runtime) -> None:
    class Stepper(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.output("n", valid_type=Int)
            spec.outline(cls.step, cls.result)

        def step(self) -> None:
            self.ctx.n = 41

        def result(self) -> None:
            self.out("n", Int(self.ctx.n + 1))

    assert runtime.run(Stepper)["n"].value == 42


def test_a_step_named_like_an_engine_method_is_refused_when_the_class_is_defined() -> None:
    with pytest.raises(SpecError, match=r"Clashing defines ctx, submit, which the engine's "):

        class Clashing(WorkChain):
            @classmethod
            def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
                super().define(spec)
                spec.outline(cls.submit)

            def submit(self) -> None:  # type: ignore[override]
                pass

            def ctx(self) -> None:  # type: ignore[override]
                pass


def test_a_step_named_like_an_engine_hook_is_refused_when_the_class_is_defined() -> None:
    # on_finish may be overridden, but as a step it also ran as the hook that records the end:
    # the work chain returned its outputs and its node stayed RUNNING.
    with pytest.raises(SpecError, match=r"Hooked: the outline uses on_finish, which the engine"):

        class Hooked(WorkChain):
            @classmethod
            def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
                super().define(spec)
                spec.outline(cls.on_finish)

            def on_finish(self) -> None:  # type: ignore[override]
                pass


def test_a_condition_named_like_an_engine_hook_is_refused_too() -> None:
    with pytest.raises(SpecError, match=r"uses on_kill, which the engine calls itself"):

        class Looping(WorkChain):
            @classmethod
            def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
                super().define(spec)
                spec.outline(while_(cls.on_kill)(cls.body))

            def on_kill(self) -> bool:  # type: ignore[override]
                return False

            def body(self) -> None:
                pass


def test_an_engine_internal_shadowed_by_a_user_method_is_refused_too() -> None:
    with pytest.raises(SpecError, match="_advance"):

        class Internal(WorkChain):
            def _advance(self) -> None:  # type: ignore[override]
                pass


@pytest.mark.parametrize("name", ["_inputs", "_node", "_ctx", "_position", "_step_index"])
def test_a_helper_named_like_an_engine_instance_attribute_is_refused_too(name: str) -> None:
    # The instance's own attribute hid it: calling self._inputs() failed deep in a step with
    # "'FrozenAttributeDict' object is not callable".
    def helper(self: WorkChain) -> int:
        return 41

    with pytest.raises(SpecError, match=f"Helpers defines {name}, which the engine"):
        type("Helpers", (WorkChain,), {name: helper})
