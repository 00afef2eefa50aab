"""aiida-core's work chain tests, translated to workactors.

Origin: github.com/aiidateam/aiida-core, tests/engine/test_work_chain.py. Each test names the
test it ports; where workactors differs on purpose, the docstring says how and why (see also
tests/peers/README.md). Tests of features workactors does not have (builders, caching, exposed
inputs, non-db inputs, process_status, pausing from inside a step) are listed in the README.
"""

from __future__ import annotations

from typing import Any

import pytest

from actors import (
    ActorError,
    ExitCode,
    ProcessKilledError,
    Runtime,
    SpecError,
    ToContext,
    WorkChain,
    append_,
    if_,
    return_,
    submit,
    while_,
    workfunction,
)
from actors.context import Context
from actors.workchain import WorkChainSpec
from provenance import Bool, Int, LinkType, List, ProcessState, Str
from tests.actors.events import Events
from tests.actors.workchains import Gated
from tests.peers.helpers import run_and_check_success


class Wf(WorkChain):
    """aiida's ``Wf``: every construct of the outline; the steps and conditions that ran are
    the output ``ran`` (aiida keeps them in a class attribute)."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.input("value", valid_type=Str, default=lambda: Str("A"))
        spec.input("n", valid_type=Int, default=lambda: Int(3))
        spec.output("ran", valid_type=List)
        spec.outline(
            cls.step1,
            if_(cls.is_a)(cls.step2).elif_(cls.is_b)(cls.step3).else_(cls.step4),
            cls.step5,
            while_(cls.larger_then_n)(cls.step6),
            cls.finish,
        )

    def _ran(self, name: str) -> None:
        self.ctx.setdefault("ran", []).append(name)

    def step1(self) -> None:
        self._ran("step1")

    def step2(self) -> None:
        self._ran("step2")

    def step3(self) -> None:
        self._ran("step3")

    def step4(self) -> None:
        self._ran("step4")

    def step5(self) -> None:
        self.ctx.counter = 0
        self._ran("step5")

    def step6(self) -> None:
        self.ctx.counter += 1
        self._ran("step6")

    def is_a(self) -> bool:
        self._ran("is_a")
        return self.inputs.value.value == "A"

    def is_b(self) -> bool:
        self._ran("is_b")
        return self.inputs.value.value == "B"

    def larger_then_n(self) -> bool:
        keep_looping: bool = self.ctx.counter < self.inputs.n.value
        if not keep_looping:
            self._ran("larger_then_n")
        return keep_looping

    def finish(self) -> None:
        self.out("ran", List(self.ctx.ran))


ALL_STEPS = {"step1", "step2", "step3", "step4", "step5", "step6", "is_a", "is_b", "larger_then_n"}


@pytest.mark.parametrize(
    ("value", "not_run"),
    [
        ("A", {"step3", "step4", "is_b"}),
        ("B", {"step2", "step4"}),
        ("C", {"step2", "step3"}),
    ],
)
def test_run(runtime: Runtime, value: str, not_run: set[str]) -> None:
    """TestWorkchain.test_run (and test_checkpointing, which runs the same through aiida's
    checkpoints; workactors checkpoints after every step in a durable runtime, tested in
    tests/actors/test_durable.py). The if_/elif_/else_ branches and the while_ loop run the
    steps they should, the loop three times."""
    outputs = runtime.run(Wf, value=Str(value), n=Int(3))

    ran = outputs["ran"].value
    assert set(ran) == ALL_STEPS - not_run
    assert ran.count("step6") == 3


class PotentialFailureWorkChain(WorkChain):
    """aiida's work chain that may end with a non-zero exit code, three ways."""

    EXIT_STATUS = 1
    EXIT_MESSAGE = "Well you did ask for it"
    OUTPUT_LABEL = "optional_output"
    OUTPUT_VALUE = 144

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.input("success", valid_type=Bool)
        spec.input("through_return", valid_type=Bool, default=lambda: Bool(False))
        spec.input("through_exit_code", valid_type=Bool, default=lambda: Bool(False))
        spec.exit_code(cls.EXIT_STATUS, "EXIT_STATUS", cls.EXIT_MESSAGE)
        spec.outline(
            if_(cls.should_return_out_of_outline)(return_(cls.EXIT_STATUS)),
            cls.failure,
            cls.success,
        )
        spec.output(cls.OUTPUT_LABEL, required=False)

    def should_return_out_of_outline(self) -> bool:
        return bool(self.inputs.through_return.value)

    def failure(self) -> Any:
        if self.inputs.success.value is False:
            if self.inputs.through_exit_code.value is False:
                return self.EXIT_STATUS
            return self.exit_codes.EXIT_STATUS
        if self.inputs.through_exit_code.value is False:
            return 0
        return ExitCode()

    def success(self) -> None:
        self.out(self.OUTPUT_LABEL, Int(self.OUTPUT_VALUE).store())


def _output_labels(node: Any) -> set[str]:
    return set(node.get_outputs_dict())


def test_failing_workchain_through_integer(runtime: Runtime) -> None:
    """TestExitStatus.test_failing_workchain_through_integer."""
    _, node = runtime.run_get_node(PotentialFailureWorkChain, success=Bool(False))

    assert node.exit_status == PotentialFailureWorkChain.EXIT_STATUS
    assert node.exit_message is None
    assert node.process_state is ProcessState.FINISHED
    assert not node.is_finished_ok
    assert PotentialFailureWorkChain.OUTPUT_LABEL not in _output_labels(node)


def test_failing_workchain_through_exit_code(runtime: Runtime) -> None:
    """TestExitStatus.test_failing_workchain_through_exit_code."""
    _, node = runtime.run_get_node(
        PotentialFailureWorkChain, success=Bool(False), through_exit_code=Bool(True)
    )

    assert node.exit_status == PotentialFailureWorkChain.EXIT_STATUS
    assert node.exit_message == PotentialFailureWorkChain.EXIT_MESSAGE
    assert node.process_state is ProcessState.FINISHED
    assert not node.is_finished_ok
    assert PotentialFailureWorkChain.OUTPUT_LABEL not in _output_labels(node)


@pytest.mark.parametrize("through_exit_code", [False, True])
def test_successful_workchain_through_integer_or_exit_code(
    runtime: Runtime, through_exit_code: bool
) -> None:
    """TestExitStatus.test_successful_workchain_through_integer and
    test_successful_workchain_through_exit_code: returning 0 or ExitCode() goes on."""
    _, node = runtime.run_get_node(
        PotentialFailureWorkChain, success=Bool(True), through_exit_code=Bool(through_exit_code)
    )

    assert node.exit_status == 0
    assert node.is_finished_ok
    outputs = node.get_outputs_dict()
    assert outputs[PotentialFailureWorkChain.OUTPUT_LABEL] == PotentialFailureWorkChain.OUTPUT_VALUE


def test_return_out_of_outline(runtime: Runtime) -> None:
    """TestExitStatus.test_return_out_of_outline."""
    _, node = runtime.run_get_node(
        PotentialFailureWorkChain, success=Bool(True), through_return=Bool(True)
    )

    assert node.exit_status == PotentialFailureWorkChain.EXIT_STATUS
    assert node.process_state is ProcessState.FINISHED
    assert not node.is_finished_ok
    assert PotentialFailureWorkChain.OUTPUT_LABEL not in _output_labels(node)


def test_context_attributes() -> None:
    """TestContext.test_attributes: ctx takes attributes, and forgets deleted ones."""
    ctx = Context()
    ctx.new_attr = 5
    assert ctx.new_attr == 5

    del ctx.new_attr
    with pytest.raises(AttributeError):
        _ = ctx.new_attr


def test_context_dict() -> None:
    """TestContext.test_dict: ctx is a dict too."""
    ctx = Context()
    ctx["new_attr"] = 5
    assert ctx["new_attr"] == 5

    del ctx["new_attr"]
    with pytest.raises(KeyError):
        _ = ctx["new_attr"]


def test_run_base_class(runtime: Runtime) -> None:
    """TestWorkchain.test_run_base_class: the bare ``WorkChain`` cannot be run or submitted.
    aiida raises InvalidOperation; workactors a SpecError (it has no outline)."""
    with pytest.raises(SpecError, match="no outline"):
        runtime.run(WorkChain)
    with pytest.raises(SpecError, match="no outline"):
        runtime.run_get_node(WorkChain)
    with pytest.raises(SpecError, match="no outline"):
        runtime.submit(WorkChain)


def test_incorrect_outline() -> None:
    """TestWorkchain.test_incorrect_outline: ``spec.outline(5)`` is refused when the spec is
    built (SpecError is a TypeError, as aiida raises); workactors builds it where the class is
    defined, so the error points at the definition."""

    with pytest.raises(TypeError, match=r"IncorrectOutline.*5 is not a step"):

        class IncorrectOutline(WorkChain):
            @classmethod
            def define(cls, spec: WorkChainSpec) -> None:
                super().define(spec)
                spec.outline(5)


def test_define_not_calling_super(runtime: Runtime) -> None:
    """TestWorkchain.test_define_not_calling_super: aiida fails an assertion; in workactors the
    base ``define`` declares nothing, so what is missing is the outline, and that is said."""

    class IncompleteDefineWorkChain(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            pass

    with pytest.raises(SpecError, match="IncompleteDefineWorkChain has no outline"):
        runtime.run(IncompleteDefineWorkChain)


def test_out_unstored_is_allowed_and_created(runtime: Runtime) -> None:
    """TestWorkchain.test_out_unstored, a deliberate difference: aiida forbids a work chain to
    emit an unstored node (only calculations create data). In workactors a work chain is also
    the unit that computes, so the node is stored and linked CREATE from it."""

    class CreatingWorkChain(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.outline(cls.create)
            spec.dynamic_output()

        def create(self) -> None:
            self.out("created", Int(2))

    outputs, node = runtime.run_get_node(CreatingWorkChain)

    assert outputs["created"].is_stored
    assert node.get_outputs_dict(link_type=LinkType.CREATE) == {"created": outputs["created"]}


def test_same_input_node(runtime: Runtime) -> None:
    """TestWorkchain.test_same_input_node: one node may be given as two inputs."""

    class SimpleWorkChain(WorkChain):
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
    node = run_and_check_success(runtime, SimpleWorkChain, a=x, b=x)
    assert node.get_inputs_dict() == {"a": x, "b": x}


A_VALUE = Str("a")
B_VALUE = Str("b")


class ReturnA(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.outline(cls.result)
        spec.dynamic_output()

    def result(self) -> None:
        self.out("res", Str(A_VALUE.value))


class ReturnB(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.outline(cls.result)
        spec.dynamic_output()

    def result(self) -> None:
        self.out("res", Str(B_VALUE.value))


def _res(node: Any) -> str:
    value: str = node.get_outputs_dict()["res"].value
    return value


def test_context(runtime: Runtime) -> None:
    """TestWorkchain.test_context: children awaited into ctx; a later step overwrites a key."""

    class OverrideContextWorkChain(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.outline(cls.s1, cls.s2, cls.s3)

        def s1(self) -> ToContext:
            return ToContext(r1=self.submit(ReturnA), r2=self.submit(ReturnB))

        def s2(self) -> ToContext:
            assert _res(self.ctx.r1) == "a"
            assert _res(self.ctx.r2) == "b"
            return ToContext(r1=self.submit(ReturnB))

        def s3(self) -> None:
            assert _res(self.ctx.r1) == "b"
            assert _res(self.ctx.r2) == "b"

    run_and_check_success(runtime, OverrideContextWorkChain)


def test_unstored_nodes_in_context(runtime: Runtime) -> None:
    """TestWorkchain.test_unstored_nodes_in_context: a node left in ctx is stored between
    steps; a string beside it causes no trouble."""

    class UnstoredInContext(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.outline(cls.setup_context, cls.read_context)

        def setup_context(self) -> None:
            self.ctx["some_string"] = "strings in the context cause no infinite recursion"
            self.ctx["node"] = Int(1)

        def read_context(self) -> None:
            assert self.ctx["node"].is_stored, "the node in ctx was not stored between steps"

    run_and_check_success(runtime, UnstoredInContext)


def test_str() -> None:
    """TestWorkchain.test_str: the spec and its outline render as text."""
    assert isinstance(str(Wf.spec()), str)
    assert "while_(larger_then_n):" in Wf.outline().describe()


@pytest.mark.parametrize("construct", ["if_", "while_"])
def test_invalid_predicate(runtime: Runtime, construct: str) -> None:
    """TestWorkchain.test_invalid_if_predicate and test_invalid_while_predicate, a deliberate
    difference: aiida warns when a condition returns a non-bool ('true') and goes on;
    workactors ends the work chain EXCEPTED saying so, since 'false' would be truthy too."""

    class InvalidPredicate(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            wrap = if_ if construct == "if_" else while_
            spec.outline(wrap(cls.predicate)(cls.run_step))

        def predicate(self) -> Any:
            return "true"

        def run_step(self) -> ExitCode:
            return ExitCode(1)

    with pytest.raises(SpecError, match=r"condition InvalidPredicate\.predicate returned str"):
        runtime.run(InvalidPredicate)


def test_malformed_outline() -> None:
    """TestWorkchain.test_malformed_outline: not a step, and a step that cannot be called with
    just the work chain, are both refused when the outline is declared."""
    spec = WorkChainSpec()

    with pytest.raises(TypeError):
        spec.outline(5)
    with pytest.raises(TypeError):
        spec.outline(lambda x, y: None)


def test_return(runtime: Runtime) -> None:
    """TestWorkchain.test_return: ``return_`` in an if_ branch ends the outline there."""

    class WcWithReturn(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.outline(cls.s1, if_(cls.is_a)(return_), cls.after)

        def s1(self) -> None:
            pass

        def is_a(self) -> bool:
            return True

        def after(self) -> None:
            raise RuntimeError("Shouldn't get here")

    run_and_check_success(runtime, WcWithReturn)


def test_call_links(runtime: Runtime) -> None:
    """TestWorkchain.test_call_link_label, without the label: workactors labels every CALL
    link ``CALL`` (there is no ``call_link_label`` metadata); a workfunction run in a step and
    a submitted child are both linked from the work chain."""

    @workfunction
    def calculation_function() -> None:
        return None

    class SubWorkChain(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.outline(cls.go)

        def go(self) -> None:
            pass

    class MainWorkChain(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.outline(cls.do_launch)

        def do_launch(self) -> ToContext:
            calculation_function()
            return ToContext(subwc=self.submit(SubWorkChain))

    node = run_and_check_success(runtime, MainWorkChain)

    labels = sorted(child.process_label for child in node.called)
    assert labels == ["SubWorkChain", "calculation_function"]
    assert set(node.get_outputs_dict(link_type=LinkType.CALL)) == {"CALL"}


FIVE = 5


class SubWorkChainOutputsFive(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.outline(cls.do_run)
        spec.dynamic_output()

    def do_run(self) -> None:
        self.out("value", Int(FIVE).store())


def test_tocontext_submit_workchain_no_daemon(runtime: Runtime) -> None:
    """TestWorkchain.test_tocontext_submit_workchain_no_daemon (and
    test_tocontext_schedule_workchain): ``self.submit`` runs the child here, no daemon
    needed, and ToContext gives its node in the next step."""

    class MainWorkChain(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.outline(cls.do_run, cls.check)
            spec.dynamic_output()

        def do_run(self) -> ToContext:
            return ToContext(subwc=self.submit(SubWorkChainOutputsFive))

        def check(self) -> None:
            assert self.ctx.subwc.get_outputs_dict()["value"] == Int(FIVE)

    run_and_check_success(runtime, MainWorkChain)


def test_report_dbloghandler(runtime: Runtime) -> None:
    """TestWorkchain.test_report_dbloghandler: a report of one step is stored through the
    DbLogHandler and readable from the node in the next step."""

    class ReportingWorkChain(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.outline(cls.emit_report, cls.check)

        def emit_report(self) -> None:
            self.report("Testing the report function")

        def check(self) -> None:
            messages = [entry.message for entry in self.node.logs]
            assert any("Testing the report function" in message for message in messages)

    run_and_check_success(runtime, ReportingWorkChain)


def test_to_context(runtime: Runtime) -> None:
    """TestWorkchain.test_to_context: ``self.to_context`` and a returned ToContext together."""

    class Workchain(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.outline(cls.begin, cls.result)

        def begin(self) -> ToContext:
            self.to_context(result_a=self.submit(SubWorkChainOutputsFive))
            return ToContext(result_b=self.submit(SubWorkChainOutputsFive))

        def result(self) -> None:
            assert self.ctx.result_a.get_outputs_dict()["value"] == FIVE
            assert self.ctx.result_b.get_outputs_dict()["value"] == FIVE

    run_and_check_success(runtime, Workchain)


def test_to_context_with_append(runtime: Runtime) -> None:
    """TestWorkchain.test_nested_to_context_with_append, without the nesting: ``append_``
    from ``to_context`` and from a returned ToContext fills one list in launch order.

    A deliberate difference: aiida reads dotted keys ('sub1.workchains') as nested
    namespaces of ctx; workactors keeps ctx keys flat (a dotted key is one key), so the
    test_nested_to_context* tests, including the overlap errors, have no counterpart."""

    class Workchain(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.outline(cls.begin, cls.result)

        def begin(self) -> ToContext:
            self.to_context(workchains=append_(self.submit(ReturnA)))
            return ToContext(workchains=append_(self.submit(ReturnB)))

        def result(self) -> None:
            assert [_res(node) for node in self.ctx.workchains] == ["a", "b"]

    run_and_check_success(runtime, Workchain)


def test_append_onto_something_that_is_not_a_list_fails(runtime: Runtime) -> None:
    """TestWorkchain.test_nested_to_context_no_overlap_with_append, the flat half of it: a
    key that holds something other than a list cannot be appended to (aiida: ValueError)."""

    class Workchain(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.outline(cls.begin, cls.result)

        def begin(self) -> ToContext:
            self.ctx.workchains = "not a list"
            return ToContext(workchains=append_(self.submit(ReturnA)))

        def result(self) -> None:
            raise RuntimeError("never reached: the append above must fail")

    with pytest.raises(ActorError, match=r"append_ to ctx\.workchains, which holds str"):
        runtime.run(Workchain)


def test_exit_codes() -> None:
    """TestWorkchain.test_exit_codes: an exit code is found by label, as an attribute or a key
    (aiida also calls ``exit_codes(status)``; workactors has no such lookup)."""
    status, label, message = 418, "SOME_EXIT_CODE", "I am a teapot"

    class ExitCodeWorkChain(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.outline(cls.go)
            spec.exit_code(status, label, message)

        def go(self) -> None:
            pass

    exit_codes = ExitCodeWorkChain.spec().exit_codes
    assert exit_codes.SOME_EXIT_CODE.status == status
    assert exit_codes.SOME_EXIT_CODE.message == message
    assert exit_codes[label] == ExitCode(status, label, message)
    with pytest.raises(AttributeError):
        _ = exit_codes.NON_EXISTENT_ERROR


class CalcFunctionWorkChain(WorkChain):
    """aiida's work chain with workfunctions as members, one plain, one static."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.input("a", valid_type=Int)
        spec.input("b", valid_type=Int)
        spec.output("out_member")
        spec.output("out_static")
        spec.outline(cls.run_add_member, cls.run_add_static)

    @workfunction
    def add_member(a, b):  # noqa: N805 - a workfunction, not a method
        return a + b

    @staticmethod
    @workfunction
    def add_static(a: Int, b: Int) -> Int:
        return a + b

    def run_add_member(self) -> None:
        self.out("out_member", CalcFunctionWorkChain.add_member(self.inputs.a, self.inputs.b))

    def run_add_static(self) -> None:
        self.out("out_static", self.add_static(self.inputs.a, self.inputs.b))


def test_member_calcfunction(runtime: Runtime) -> None:
    """TestWorkchain.test_member_calcfunction: workfunctions defined in the class body."""
    results, node = runtime.run_get_node(CalcFunctionWorkChain, a=Int(1), b=Int(2))

    assert node.is_finished_ok
    assert results["out_member"] == 3
    assert results["out_static"] == 3
    assert [child.process_label for child in node.called] == ["add_member", "add_static"]


class AbortableChild(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.input("gate", valid_type=Str)
        spec.outline(cls.begin, cls.check)

    def begin(self) -> ToContext:
        return ToContext(blocked=self.submit(Gated, gate=self.inputs.gate))

    def check(self) -> None:
        raise RuntimeError("should have been aborted by now")


class AbortableMain(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.input("gate", valid_type=Str)
        spec.input("kill", valid_type=Bool, default=lambda: Bool(False))
        spec.outline(cls.submit_child, cls.check)

    def submit_child(self) -> ToContext:
        if self.inputs.kill.value:
            return ToContext(child=self.submit(AbortableChild, gate=self.inputs.gate))
        return ToContext(child=self.submit(ReturnA))

    def check(self) -> None:
        raise RuntimeError("should have been aborted by now")


def test_abort_children_simple_run(runtime: Runtime, gate_name: str) -> None:
    """TestWorkChainAbortChildren.test_simple_run: a step that raises ends the work chain
    EXCEPTED, not KILLED."""
    with pytest.raises(RuntimeError, match="should have been aborted"):
        runtime.run(AbortableMain, gate=Str(gate_name))


def test_abort_children_kill_through_process(
    runtime: Runtime, events: Events, gate_name: str
) -> None:
    """TestWorkChainAbortChildren.test_simple_kill_through_process: killing a work chain that
    waits on a child kills the child too; both end KILLED. aiida pauses the child from its
    step; here a gated grandchild keeps the child waiting."""
    main, done = runtime.launch(AbortableMain, {"gate": Str(gate_name), "kill": Bool(True)})
    events.wait_for(main.pid, "passivated")
    runtime.backend.sync()
    [child] = main.node.called
    events.wait_for(child.pk, "passivated")

    assert runtime.kill(main.pid, "test")  # type: ignore[arg-type]
    with pytest.raises(ProcessKilledError):
        done.result(timeout=30)

    events.wait_for(child.pk, "terminated")
    assert child.process_state is ProcessState.KILLED
    assert main.node.process_state is ProcessState.KILLED


def test_immutable_input(runtime: Runtime) -> None:
    """TestImmutableInputWorkchain.test_immutable_input: ``self.inputs`` is read-only. aiida
    raises AttributeError for ``pop``; workactors raises TypeError for every change."""

    class FrozenDictWorkChain(WorkChain):
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
            assert self.inputs["a"].value == 1

    run_and_check_success(runtime, FrozenDictWorkChain, a=Int(1), b=Int(2))


class PointlessWorkChain(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.outline(cls.return_dict)

    def return_dict(self) -> dict[str, Any]:
        """Only return a dictionary: allowed, though it accomplishes nothing."""
        return {}


class IllegalSubmitWorkChain(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:
        super().define(spec)
        spec.outline(cls.illegal_submit)

    def illegal_submit(self) -> None:
        submit(PointlessWorkChain)


def test_run_pointless_workchain(runtime: Runtime) -> None:
    """TestWorkChainMisc.test_run_pointless_workchain: a step returning {} is fine."""
    run_and_check_success(runtime, PointlessWorkChain)


def test_global_submit_raises(runtime: Runtime) -> None:
    """TestWorkChainMisc.test_global_submit_raises: the module-level submit in a step is
    refused (aiida: InvalidOperation; workactors: ActorError pointing at self.submit)."""
    with pytest.raises(ActorError, match=r"self\.submit"):
        runtime.run(IllegalSubmitWorkChain)


def test_a_step_named_run(runtime: Runtime) -> None:
    """test_illegal_override_run, a deliberate difference: aiida protects ``WorkChain.run``;
    a workactors work chain never calls ``run`` itself, so a step may be named ``run``."""

    class RunStepWorkChain(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:
            super().define(spec)
            spec.output("ran", valid_type=Bool)
            spec.outline(cls.run)

        def run(self) -> None:
            self.out("ran", Bool(True))

    assert runtime.run(RunStepWorkChain)["ran"].value is True
