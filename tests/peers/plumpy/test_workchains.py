"""plumpy's work chain tests, translated to workactors.

Origin: github.com/aiidateam/plumpy, tests/test_workchains.py. plumpy's processes take plain
Python values; workactors' take data nodes, so inputs and outputs are wrapped (``Int(3)`` for
``3``). plumpy's ``self.launch(Process)`` is ``self.submit``; its ``ctx.r1['res']`` (the
child's outputs) is ``ToContext(r1=Outputs(...))``. Tests of what workactors does not have
(nested output namespaces, process listeners, stepper strings) are listed in
tests/peers/README.md.
"""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from actors import (
    Outputs,
    Process,
    Runtime,
    SpecError,
    ToContext,
    WorkChain,
    if_,
    return_,
    while_,
)
from actors.context import Context
from actors.spec import ProcessSpec
from actors.workchain import WorkChainSpec
from provenance import Bool, Int, List, ProcessState, Str
from tests.actors.events import Events
from tests.actors.workchains import Gated, gate
from tests.peers.helpers import run_and_check_success


class Wf(WorkChain):
    """plumpy's ``Wf``; the steps and conditions that ran are the output ``ran``."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.input("value", valid_type=Str, default=lambda: Str("A"))
        spec.input("n", valid_type=Int, default=lambda: Int(3))
        spec.output("ran", valid_type=List)
        spec.outline(
            cls.s1,
            if_(cls.isA)(cls.s2).elif_(cls.isB)(cls.s3).else_(cls.s4),
            cls.s5,
            while_(cls.ltN)(cls.s6),
            cls.done,
        )

    def _ran(self, name: str) -> None:
        self.ctx.setdefault("ran", []).append(name)

    def s1(self) -> None:
        self._ran("s1")

    def s2(self) -> None:
        self._ran("s2")

    def s3(self) -> None:
        self._ran("s3")

    def s4(self) -> None:
        self._ran("s4")

    def s5(self) -> None:
        self.ctx.counter = 0
        self._ran("s5")

    def s6(self) -> None:
        self.ctx.counter += 1
        self._ran("s6")

    def isA(self) -> bool:
        self._ran("isA")
        return bool(self.inputs.value.value == "A")

    def isB(self) -> bool:
        self._ran("isB")
        return bool(self.inputs.value.value == "B")

    def ltN(self) -> bool:
        keep_looping: bool = self.ctx.counter < self.inputs.n.value
        if not keep_looping:
            self._ran("ltN")
        return keep_looping

    def done(self) -> None:
        self.out("ran", List(self.ctx.ran))


ALL = {"s1", "s2", "s3", "s4", "s5", "s6", "isA", "isB", "ltN"}


@pytest.mark.parametrize(
    ("value", "not_run"),
    [("A", {"s3", "s4", "isB"}), ("B", {"s2", "s4"}), ("C", {"s2", "s3"})],
)
def test_run(runtime: Runtime, value: str, not_run: set[str]) -> None:
    """TestWorkchain.test_run and test_checkpointing (plumpy's checkpointing variant only
    runs the work chain; its own TODO says so)."""
    ran = runtime.run(Wf, value=Str(value), n=Int(3))["ran"].value

    assert set(ran) == ALL - not_run
    assert ran.count("s6") == 3


def test_context_attributes_and_items() -> None:
    """TestContext.test_attributes and test_dict."""
    ctx = Context()
    ctx.new_attr = 5
    assert ctx["new_attr"] == 5
    del ctx.new_attr
    with pytest.raises(AttributeError):
        _ = ctx.new_attr
    ctx["other"] = 6
    assert ctx.other == 6
    del ctx["other"]
    with pytest.raises(KeyError):
        _ = ctx["other"]


def test_incorrect_outline() -> None:
    """TestWorkchain.test_incorrect_outline (refused where the class is defined, see README)."""
    with pytest.raises(TypeError):

        class Bad(WorkChain):
            @classmethod
            def define(cls, spec: WorkChainSpec) -> None:
                super().define(spec)
                spec.outline(5)


def test_same_input_node(runtime: Runtime) -> None:
    """TestWorkchain.test_same_input_node."""

    class SameInput(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.input("a", valid_type=Int)
            spec.input("b", valid_type=Int)
            spec.outline(cls.check_a_b)

        def check_a_b(self) -> None:
            assert "a" in self.inputs
            assert "b" in self.inputs

    x = Int(1)
    run_and_check_success(runtime, SameInput, a=x, b=x)


class ReturnA(Process):
    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.output("res")

    def run(self) -> None:
        self.out("res", Str("a"))


class ReturnB(Process):
    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.output("res")

    def run(self) -> None:
        self.out("res", Str("b"))


def test_context(runtime: Runtime) -> None:
    """TestWorkchain.test_context: plain processes as children, their outputs in ctx."""

    class Overrides(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.outline(cls.s1, cls.s2, cls.s3)

        def s1(self) -> ToContext:
            return ToContext(r1=Outputs(self.submit(ReturnA)), r2=Outputs(self.submit(ReturnB)))

        def s2(self) -> ToContext:
            assert self.ctx.r1["res"] == "a"
            assert self.ctx.r2["res"] == "b"
            return ToContext(r1=Outputs(self.submit(ReturnB)))

        def s3(self) -> None:
            assert self.ctx.r1["res"] == "b"
            assert self.ctx.r2["res"] == "b"

    run_and_check_success(runtime, Overrides)


def test_str() -> None:
    """TestWorkchain.test_str."""
    assert isinstance(str(Wf.spec()), str)


def test_malformed_outline() -> None:
    """TestWorkchain.test_malformed_outline."""
    spec = WorkChainSpec()
    with pytest.raises(TypeError):
        spec.outline(5)
    with pytest.raises(TypeError):
        spec.outline(lambda x, y: 5)


class WcWithReturnInOutline(WorkChain):
    FAILED_CODE = 1

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.input("success", valid_type=Bool, required=False)
        spec.outline(
            cls.step_one,
            if_(cls.do_success)(return_)
            .elif_(cls.do_failed)(return_(cls.FAILED_CODE))
            .else_(cls.default),
        )

    def step_one(self) -> None:
        pass

    def do_success(self) -> bool:
        return "success" in self.inputs and self.inputs.success.value is True

    def do_failed(self) -> bool:
        return "success" in self.inputs and self.inputs.success.value is False

    def default(self) -> None:
        raise RuntimeError("Should already have returned")


def test_return_in_outline(runtime: Runtime) -> None:
    """TestWorkchain.test_return_in_outline: ``return_`` and ``return_(code)``."""
    assert runtime.run_get_node(WcWithReturnInOutline, success=Bool(True))[1].exit_status == 0
    failed = runtime.run_get_node(WcWithReturnInOutline, success=Bool(False))[1]
    assert failed.exit_status == WcWithReturnInOutline.FAILED_CODE
    with pytest.raises(RuntimeError, match="Should already have returned"):
        runtime.run(WcWithReturnInOutline)


class WcWithReturnInStep(WorkChain):
    FAILED_CODE = 1

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.input("success", valid_type=Bool, required=False)
        spec.outline(cls.step_one, cls.after)

    def step_one(self) -> int | None:
        if "success" not in self.inputs:
            return None
        if self.inputs.success.value is True:
            return 0
        return self.FAILED_CODE

    def after(self) -> None:
        raise RuntimeError("Should already have returned")


def test_return_in_step(runtime: Runtime) -> None:
    """TestWorkchain.test_return_in_step: 0 goes on, a non-zero status ends the work chain.
    plumpy's success=True case finishes because its ``after`` is never reached there either:
    in workactors returning 0 goes on to ``after``, which raises, as in aiida."""
    failed = runtime.run_get_node(WcWithReturnInStep, success=Bool(False))[1]
    assert failed.exit_status == WcWithReturnInStep.FAILED_CODE
    with pytest.raises(RuntimeError, match="Should already have returned"):
        runtime.run(WcWithReturnInStep, success=Bool(True))
    with pytest.raises(RuntimeError, match="Should already have returned"):
        runtime.run(WcWithReturnInStep)


class SubWorkChain(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.outline(cls.run)
        spec.output("value", valid_type=Int)

    def run(self) -> None:
        self.out("value", Int(5))


def test_tocontext_schedule_workchain(runtime: Runtime) -> None:
    """TestWorkchain.test_tocontext_schedule_workchain: steps named ``run``, as in plumpy."""

    class MainWorkChain(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.outline(cls.run, cls.check)

        def run(self) -> ToContext:
            return ToContext(subwc=Outputs(self.submit(SubWorkChain)))

        def check(self) -> None:
            assert self.ctx.subwc["value"].value == 5

    run_and_check_success(runtime, MainWorkChain)


class IfTest(WorkChain):
    """plumpy's IfTest; step1 waits on a gated child instead of pausing itself."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.input("gate", valid_type=Str)
        spec.output("s1", valid_type=Bool)
        spec.output("s2", valid_type=Bool)
        spec.outline(if_(cls.condition)(cls.step1, cls.step2))

    def condition(self) -> bool:
        self.ctx.s1 = False
        self.ctx.s2 = False
        return True

    def step1(self) -> ToContext:
        self.ctx.s1 = True
        return ToContext(child=self.submit(Gated, gate=self.inputs.gate))

    def step2(self) -> None:
        self.ctx.s2 = True
        self.out("s1", Bool(self.ctx.s1))
        self.out("s2", Bool(self.ctx.s2))


def test_if_block_persistence(runtime: Runtime, events: Events, gate_name: str) -> None:
    """TestWorkchain.test_if_block_persistence: the state saved between the two steps of an
    if_ branch loads again with the same ctx and position, saves again the same, and the
    work chain then goes on inside the branch."""
    process, done = runtime.launch(IfTest, {"gate": Str(gate_name)})
    events.wait_for(process.pid, "passivated")
    runtime.backend.sync()  # the nodes a saved state names by uuid are committed

    saved = process.save_instance_state()
    assert saved[IfTest.SaveKeys.CONTEXT]["s1"] is True
    assert saved[IfTest.SaveKeys.CONTEXT]["s2"] is False
    loaded = IfTest.load_instance_state(pickle.loads(pickle.dumps(saved)))
    assert loaded.ctx.s1 is True
    assert loaded.ctx.s2 is False
    # Process nodes compare by identity; their reprs name their uuid and pk.
    assert repr(loaded.save_instance_state()) == repr(saved)

    gate(gate_name).set()
    outputs = done.result(timeout=30)
    assert outputs["s1"].value is True
    assert outputs["s2"].value is True


class SimpleWc(Process):
    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.output("_return")

    def run(self) -> None:
        self.out("_return", Int(5))


def test_to_context(runtime: Runtime) -> None:
    """TestWorkchain.test_to_context."""

    class Workchain(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.outline(cls.begin, cls.check)

        def begin(self) -> ToContext:
            self.to_context(result_a=Outputs(self.submit(SimpleWc)))
            return ToContext(result_b=Outputs(self.submit(SimpleWc)))

        def check(self) -> None:
            assert self.ctx.result_a["_return"] == 5
            assert self.ctx.result_b["_return"] == 5

    run_and_check_success(runtime, Workchain)


class ExceptionProcess(Process):
    def run(self) -> None:
        raise RuntimeError("the child failed")


def test_exception_tocontext(runtime: Runtime) -> None:
    """TestWorkchain.test_exception_tocontext: an awaited child that excepts does not stop
    the parent; the parent's own exception ends it EXCEPTED."""

    class Workchain(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.outline(cls.begin, cls.check)

        def begin(self) -> None:
            self.to_context(result_a=self.submit(ExceptionProcess))

        def check(self) -> None:
            assert self.ctx.result_a.process_state is ProcessState.EXCEPTED
            raise RuntimeError("Should not be reached")

    with pytest.raises(RuntimeError, match="Should not be reached"):
        runtime.run(Workchain)


def test_immutable_input(runtime: Runtime) -> None:
    """TestImmutableInputWorkchain.test_immutable_input; ``pop`` raises TypeError here, not
    AttributeError: every change of the inputs is the same error."""

    class Frozen(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.input("a", valid_type=Int)
            spec.input("b", valid_type=Int)
            spec.outline(cls.step_one, cls.step_two)

        def step_one(self) -> None:
            with pytest.raises(TypeError):
                self.inputs["a"] = Int(3)
            with pytest.raises(TypeError):
                self.inputs.pop("b")
            with pytest.raises(TypeError):
                self.inputs["c"] = Int(4)

        def step_two(self) -> None:
            assert "a" in self.inputs
            assert "b" in self.inputs
            assert "c" not in self.inputs
            assert self.inputs["a"] == 1

    run_and_check_success(runtime, Frozen, a=Int(1), b=Int(2))


class BoolLike:
    """Defines ``__bool__``: a truth value by itself (numpy.bool_ is one)."""

    def __bool__(self) -> bool:
        return True


@pytest.mark.parametrize("construct", ["if_", "while_"])
@pytest.mark.parametrize(
    ("returned", "accepted"),
    [(BoolLike(), True), (1, True), (None, False), ("true", False), ([1], False)],
)
def test_conditional_return_type(
    runtime: Runtime, construct: str, returned: Any, accepted: bool
) -> None:
    """test_conditional_return_type: a value that defines ``__bool__`` is a truth value.
    Deliberate differences: plumpy warns about a str and goes on, workactors refuses it (a
    'false' string would be true); plumpy reads None as false, workactors refuses it (it is
    a condition that forgot to return)."""

    class Conditional(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.output("ran", valid_type=Bool)
            wrap = if_ if construct == "if_" else while_
            spec.outline(wrap(cls.predicate)(cls.step))

        def predicate(self) -> Any:
            if self.ctx.get("stepped"):
                return False  # a while_ loop ends after one round
            return returned

        def step(self) -> None:
            self.ctx.stepped = True
            self.out("ran", Bool(True))

    if accepted:
        assert runtime.run(Conditional)["ran"].value is True
    else:
        with pytest.raises(SpecError, match="must return True or False"):
            runtime.run(Conditional)
