"""Legacy adapters: the old Workflow API run as a process, and RunningInfo for ToContext."""

from __future__ import annotations

import json
import pickle
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from actors import (
    InputValidationError,
    OutputValidationError,
    ProcessState,
    Runtime,
    ToContext,
    WorkChain,
    get_runtime,
    run_get_node,
)
from actors.cli import app
from actors.cli.queries import is_process_type
from actors.legacy import (
    LegacyWorkflowError,
    RunningInfo,
    RunningType,
    Workflow,
    WorkflowState,
    legacy_calc,
    legacy_workflow,
)
from actors.legacy import process as legacy_process
from actors.test_utils import DummyProcess
from actors.workchain import WorkChainSpec
from provenance import (
    Calculation,
    Float,
    Int,
    LegacyWorkflowNode,
    LinkType,
    List,
    NotExistentError,
    ProcessNode,
    Str,
    load_node,
)
from tests.actors.events import EVENT_TIMEOUT, Events
from tests.actors.workchains import Gated, gate
from tests.helpers import count_links, count_nodes

TIMEOUT = 30.0


class Zigzag(Workflow):
    """Its steps are defined in one order and run in another: start, third, second."""

    @Workflow.step
    def start(self) -> None:
        self.order = ["start"]
        self.next(self.third)

    @Workflow.step
    def second(self) -> None:
        self.order.append("second")
        self.next(self.exit)

    @Workflow.step
    def third(self) -> None:
        self.order.append("third")
        self.next(self.second)


class Countdown(Workflow):
    """A step that chooses itself until the count is down."""

    @Workflow.step
    def start(self) -> None:
        self.left = self.get_parameter("n")
        self.next(self.tick)

    @Workflow.step
    def tick(self) -> None:
        self.left -= 1
        self.append_to_report(f"{self.left} left")
        self.next(self.tick if self.left else self.exit)


class OldEquationOfState(Workflow):
    """Computes volumes from scales in two steps and reports what it does."""

    @Workflow.step
    def start(self) -> None:
        scales = self.get_parameter("scales")
        self.append_to_report(f"computing {len(scales)} volumes")
        self.volumes = [round(scale**3, 6) for scale in scales]
        self.next(self.fit)

    @Workflow.step
    def fit(self) -> None:
        self.add_result("volumes", List(self.volumes))
        self.add_result("structure", self.get_parameter("structure"))
        self.append_to_report("fitted")
        self.next(self.exit)


class Breaks(Workflow):
    """Adds a result, then fails in its second step."""

    @Workflow.step
    def start(self) -> None:
        self.add_result("partial", Int(1))
        self.next(self.explode)

    @Workflow.step
    def explode(self) -> None:
        raise RuntimeError("the fit diverged")


class Blocks(Workflow):
    """Its first step waits for the test to let it go; its second should never run if killed."""

    entered = threading.Event()
    release = threading.Event()

    @Workflow.step
    def start(self) -> None:
        Blocks.entered.set()
        assert Blocks.release.wait(TIMEOUT)
        self.next(self.after)

    @Workflow.step
    def after(self) -> None:
        self.ran_after = True
        self.next(self.exit)


MISTAKES: dict[str, Callable[[Workflow], Any]] = {
    "no_next": lambda wf: None,
    "next_twice": lambda wf: (wf.next(wf.exit), wf.next(wf.exit)),
    "next_none": lambda wf: wf.next(None),  # type: ignore[arg-type]
    "next_plain_method": lambda wf: wf.next(wf.get_state),  # type: ignore[arg-type]
    "call_a_step": lambda wf: wf.exit(),
    "result_not_a_node": lambda wf: wf.add_result("x", 5),  # type: ignore[arg-type]
    "attach_unlaunched": lambda wf: wf.attach_calculation(Zigzag()),
    "attach_itself": lambda wf: wf.attach_calculation(wf),
}


class Mistaken(Workflow):
    """Its start step makes the mistake named by its ``mistake`` parameter."""

    @Workflow.step
    def start(self) -> None:
        MISTAKES[self.get_parameter("mistake")](self)


class AwaitsCalculation(Workflow):
    """Launches a gated calculation, attaches it, and reads it in the next step."""

    @Workflow.step
    def start(self) -> None:
        self.note = "kept while waiting"
        process, _done = get_runtime().launch(Gated, {"gate": Str(self.get_parameter("gate"))})
        self.attach_calculation(process.node)
        self.next(self.collect)

    @Workflow.step
    def collect(self) -> None:
        [calc] = self.get_step_calculations(self.start)
        self.seen = (calc.process_state, self.note)
        self.add_result("value", calc.get_outputs_dict()["value"])
        self.next(self.exit)


def _pk(node: Any) -> int:
    pk = node.pk
    assert isinstance(pk, int)
    return pk


def _started(wf: Workflow) -> int:
    wf.start()
    assert wf.pk is not None
    return wf.pk


@pytest.fixture
def gate_name() -> Iterator[str]:
    name = f"legacy-gate-{uuid.uuid4().hex[:8]}"
    yield name
    gate(name).set()  # never leave a calculation blocked


@pytest.fixture
def blocks() -> Iterator[type[Blocks]]:
    Blocks.entered.clear()
    Blocks.release.clear()
    yield Blocks
    Blocks.release.set()


def cli(runtime: Runtime, *args: str) -> Any:
    """Run the CLI on the runtime's home and return its parsed JSON output."""
    result = CliRunner().invoke(
        app,
        ["--home", str(runtime.home), *args, "--json"],
        env={"WORKACTORS_HOME": None, "WORKACTORS_DATABASE_URL": None, "NO_COLOR": "1"},
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# Steps and states.


def test_steps_run_in_the_order_the_steps_choose_not_the_order_they_are_defined(
    runtime: Runtime,
) -> None:
    wf = Zigzag()
    wf.start()

    assert wf.wait(TIMEOUT) is WorkflowState.FINISHED
    assert wf.order == ["start", "third", "second"]


def test_a_step_may_choose_itself_to_loop_until_it_chooses_exit(runtime: Runtime) -> None:
    wf = Countdown(params={"n": 3})
    wf.start()

    assert wf.wait(TIMEOUT) is WorkflowState.FINISHED
    assert wf.left == 0
    assert wf.get_report() == [f"[Countdown|tick] {left} left" for left in (2, 1, 0)]


def test_next_exit_ends_the_workflow_finished_on_the_object_and_on_its_node(
    runtime: Runtime,
) -> None:
    wf = Zigzag()
    assert (wf.get_state(), wf.is_new(), wf.pk, wf.node) == (
        WorkflowState.CREATED,
        True,
        None,
        None,
    )

    wf.start()
    wf.wait(TIMEOUT)

    assert (wf.has_finished_ok(), wf.has_failed(), wf.is_running()) == (True, False, False)
    node = load_node(_pk(wf))
    assert isinstance(node, LegacyWorkflowNode)
    assert node.legacy_state is WorkflowState.FINISHED
    assert node.process_state is ProcessState.FINISHED
    assert node.exit_status == 0
    assert (node.process_label, node.process_class) == ("Zigzag", f"{__name__}.Zigzag")
    assert node.attributes["legacy_state"] == "finished"


def test_start_returns_before_the_workflow_ends_and_the_state_is_running_meanwhile(
    runtime: Runtime, blocks: type[Blocks]
) -> None:
    wf = blocks()
    wf.start()
    assert blocks.entered.wait(TIMEOUT)

    assert wf.is_running()
    node = wf.node
    assert node is not None
    runtime.backend.sync()
    assert node.legacy_state is WorkflowState.RUNNING
    with pytest.raises(TimeoutError, match="still running after 0 s"):
        wf.wait(timeout=0)

    blocks.release.set()
    assert wf.wait(TIMEOUT) is WorkflowState.FINISHED
    assert wf.ran_after


def test_a_workflow_class_runs_like_a_process_with_its_parameters_as_inputs(
    runtime: Runtime,
) -> None:
    outputs, node = runtime.run_get_node(
        OldEquationOfState, scales=List([1.0, 2.0]), structure=Str("Si")
    )

    assert outputs["volumes"].value == [1.0, 8.0]
    assert isinstance(node, LegacyWorkflowNode)
    assert node.legacy_state is WorkflowState.FINISHED


# Parameters, results, provenance.


def test_parameters_are_input_links_and_plain_values_are_stored_as_data_nodes(
    runtime: Runtime,
) -> None:
    structure = Str("Si")
    wf = OldEquationOfState(params={"scales": [0.98, 1.0], "structure": structure, "n": 2})
    wf.start()
    wf.wait(TIMEOUT)

    assert wf.get_parameters() == {"scales": [0.98, 1.0], "structure": structure, "n": 2}
    node = load_node(_pk(wf))
    assert isinstance(node, LegacyWorkflowNode)
    inputs = node.get_parameters()
    assert inputs["scales"].value == [0.98, 1.0]  # type: ignore[attr-defined]
    assert isinstance(inputs["n"], Int)
    assert inputs["n"].value == 2
    assert inputs["structure"].uuid == structure.uuid
    assert node.get_inputs_dict(link_type=LinkType.INPUT).keys() == {"scales", "structure", "n"}


def test_parameters_that_cannot_be_stored_are_refused_before_anything_is_stored(
    runtime: Runtime,
) -> None:
    nodes, links = count_nodes(runtime), count_links(runtime)

    with pytest.raises(InputValidationError, match=r"'when' is object .*'ratio': .*nan"):
        OldEquationOfState(params={"when": object(), "ratio": float("nan"), "ok": 1})

    assert (count_nodes(runtime), count_links(runtime)) == (nodes, links)


def test_results_are_created_or_returned_by_the_workflow_node(runtime: Runtime) -> None:
    structure = Str("Si").store()
    wf = OldEquationOfState(params={"scales": [2.0], "structure": structure})
    wf.start()
    wf.wait(TIMEOUT)

    results = wf.get_results()
    assert results["volumes"].value == [8.0]  # type: ignore[attr-defined]
    assert wf.get_result("structure") is structure
    node = load_node(_pk(wf))
    assert isinstance(node, LegacyWorkflowNode)
    assert node.get_outputs_dict(link_type=LinkType.CREATE).keys() == {"volumes"}
    assert node.get_outputs_dict(link_type=LinkType.RETURN).keys() == {"structure"}
    assert {name: result.uuid for name, result in node.get_results().items()} == {
        "volumes": results["volumes"].uuid,
        "structure": structure.uuid,
    }
    with pytest.raises(KeyError, match="no result 'energy'; results: structure, volumes"):
        wf.get_result("energy")


def test_report_lines_are_stored_on_the_node_and_shown_by_process_report(
    runtime: Runtime,
) -> None:
    wf = OldEquationOfState(params={"scales": [1.0, 1.1, 1.2], "structure": Str("Si")})
    pk = _started(wf)
    wf.wait(TIMEOUT)
    wf.append_to_report("checked by hand")
    runtime.backend.sync()

    report = cli(runtime, "process", "report", str(pk))

    assert [log["message"] for log in report["logs"]] == [
        "[OldEquationOfState|start] computing 3 volumes",
        "[OldEquationOfState|fit] fitted",
        "[OldEquationOfState|test_report_lines_are_stored_on_the_node_and_shown_by_process_report]"
        " checked by hand",
    ]


def test_the_workflow_node_is_listed_as_a_process(runtime: Runtime) -> None:
    wf = Zigzag()
    pk = _started(wf)
    wf.wait(TIMEOUT)

    [listed] = [process for process in cli(runtime, "process", "list") if process["pk"] == pk]

    assert listed["process_label"] == "Zigzag"
    assert listed["state"] == "finished"
    assert listed["node_type"] == LegacyWorkflowNode.node_type
    assert is_process_type(LegacyWorkflowNode.node_type)


# Failures.


def test_an_exception_in_a_step_ends_the_workflow_error_and_its_process_excepted(
    runtime: Runtime,
) -> None:
    wf = Breaks()
    pk = _started(wf)

    assert wf.wait(TIMEOUT) is WorkflowState.ERROR
    assert wf.has_failed()
    with pytest.raises(RuntimeError, match="the fit diverged"):
        wf.future.result()
    node = load_node(pk)
    assert isinstance(node, LegacyWorkflowNode)
    assert node.legacy_state is WorkflowState.ERROR
    assert node.process_state is ProcessState.EXCEPTED
    assert node.exception is not None
    assert "Traceback" in node.exception
    assert "RuntimeError: the fit diverged" in node.exception
    assert node.get_results().keys() == {"partial"}
    [line] = node.logs
    assert line.levelname == "ERROR"
    assert line.message == (
        f"[Breaks|explode] step 'explode' failed: RuntimeError: the fit diverged "
        f"(the traceback is on node {pk})"
    )


@pytest.mark.parametrize(
    ("mistake", "error", "match"),
    [
        ("no_next", LegacyWorkflowError, "ended without choosing what follows"),
        ("next_twice", LegacyWorkflowError, "chose 'exit' already; call next\\(\\) once"),
        ("next_none", LegacyWorkflowError, r"next\(None\): pass the step itself"),
        ("next_plain_method", LegacyWorkflowError, "get_state is not a step"),
        ("call_a_step", LegacyWorkflowError, "Mistaken.exit is a step: the engine runs it"),
        ("attach_unlaunched", LegacyWorkflowError, r"pass the node of a launched process"),
        ("attach_itself", LegacyWorkflowError, r"<Mistaken: pk \d+ RUNNING> cannot wait for it"),
        ("result_not_a_node", OutputValidationError, r"output 'x' must be Data, .* Int\(5\)"),
    ],
)
def test_a_step_that_misuses_the_api_ends_the_workflow_in_error(
    runtime: Runtime, mistake: str, error: type[Exception], match: str
) -> None:
    wf = Mistaken(params={"mistake": mistake})
    wf.start()

    assert wf.wait(TIMEOUT) is WorkflowState.ERROR
    with pytest.raises(error, match=match):
        wf.future.result()


def test_a_killed_workflow_ends_in_error_before_its_next_step(
    runtime: Runtime, blocks: type[Blocks]
) -> None:
    wf = blocks()
    pk = _started(wf)
    assert blocks.entered.wait(TIMEOUT)

    assert runtime.kill(pk, "no longer needed")
    blocks.release.set()

    assert wf.wait(TIMEOUT) is WorkflowState.ERROR
    assert not hasattr(wf, "ran_after")
    node = load_node(pk)
    assert isinstance(node, LegacyWorkflowNode)
    assert (node.process_state, node.legacy_state) == (ProcessState.KILLED, WorkflowState.ERROR)


def test_the_api_refuses_misuse_outside_steps_with_a_clear_error(runtime: Runtime) -> None:
    wf = Zigzag()
    with pytest.raises(LegacyWorkflowError, match="no report before it is started"):
        wf.append_to_report("too early")
    with pytest.raises(LegacyWorkflowError, match=r"was not started here: call wf\.start"):
        wf.wait()
    with pytest.raises(LegacyWorkflowError, match=r"Zigzag.third is a step: .* wf.start\(\)"):
        wf.third()

    wf.start()
    wf.wait(TIMEOUT)

    with pytest.raises(LegacyWorkflowError, match="was started already; create a new Zigzag"):
        wf.start()
    with pytest.raises(LegacyWorkflowError, match=r"next\(\) is for the steps of Zigzag"):
        wf.next(wf.exit)
    with pytest.raises(LegacyWorkflowError, match=r"add_result\(\) is for the steps of Zigzag"):
        wf.add_result("late", Int(1))
    with pytest.raises(KeyError, match="no parameter 'n'; parameters: none"):
        wf.get_parameter("n")


def test_a_workflow_without_a_start_step_cannot_start_and_stores_nothing(
    runtime: Runtime,
) -> None:
    class NoStart(Workflow):
        @Workflow.step
        def begin(self) -> None:
            self.next(self.exit)

    nodes = count_nodes(runtime)
    with pytest.raises(LegacyWorkflowError, match="NoStart has no start step"):
        NoStart().start()
    assert count_nodes(runtime) == nodes


def test_a_start_or_exit_that_is_not_a_step_is_refused_when_the_class_is_defined() -> None:
    with pytest.raises(LegacyWorkflowError, match=r"PlainStart.start must be a step"):

        class PlainStart(Workflow):
            def start(self) -> None:  # type: ignore[override]
                pass


def test_a_step_that_takes_arguments_is_refused_when_it_is_marked() -> None:
    with pytest.raises(LegacyWorkflowError, match=r"step fit\(self, points=3\) must take self"):

        class TakesArguments(Workflow):
            @Workflow.step
            def fit(self, points: int = 3) -> None:
                pass


# Waiting on attached calculations, passivation, checkpoints.


@pytest.mark.parametrize("passivation", [True, False])
def test_the_next_step_waits_for_the_attached_calculations(
    home: Any, gate_name: str, passivation: bool
) -> None:
    with Runtime(home, passivation=passivation) as rt:
        events = Events()
        rt.add_listener(events)
        wf = AwaitsCalculation(params={"gate": gate_name})
        pk = _started(wf)
        if passivation:  # it waits without its actor; without passivation it keeps it
            events.wait_for(pk, "passivated")
        assert pk in rt.live_pids()

        gate(gate_name).set()

        assert wf.wait(EVENT_TIMEOUT) is WorkflowState.FINISHED
        assert wf.seen == (ProcessState.FINISHED, "kept while waiting")
        assert wf.get_results()["value"].value == 0  # type: ignore[attr-defined]
        [calc] = wf.get_step_calculations(AwaitsCalculation.start)
        assert calc.caller is not None
        assert calc.caller.pk == pk
        assert ("revived" in events.kinds(pk)) is passivation


class Unpicklable:
    """Says when something tried to pickle it, then refuses."""

    def __init__(self) -> None:
        self.tried = threading.Event()

    def __reduce__(self) -> Any:
        self.tried.set()
        raise TypeError("cannot pickle Unpicklable")


def test_a_workflow_that_keeps_something_unpicklable_waits_with_its_actor(
    runtime: Runtime, gate_name: str
) -> None:
    class KeepsAnUnpicklable(AwaitsCalculation):
        @Workflow.step
        def start(self) -> None:
            self.unpicklable = keep
            AwaitsCalculation.start.func(self)

    keep = Unpicklable()
    wf = KeepsAnUnpicklable(params={"gate": gate_name})
    wf.start()
    assert keep.tried.wait(TIMEOUT)  # passivation tried to write it out, and gave up
    gate(gate_name).set()

    assert wf.wait(TIMEOUT) is WorkflowState.FINISHED
    assert wf.seen == (ProcessState.FINISHED, "kept while waiting")


def test_an_attached_calculation_that_already_ended_does_not_hold_the_workflow(
    runtime: Runtime,
) -> None:
    class AttachesFinished(Workflow):
        @Workflow.step
        def start(self) -> None:
            _outputs, node = run_get_node(DummyProcess)
            self.attach_calculation(node)  # type: ignore[arg-type]
            self.next(self.exit)

    wf = AttachesFinished()
    wf.start()

    assert wf.wait(TIMEOUT) is WorkflowState.FINISHED
    [calc] = wf.get_step_calculations(AttachesFinished.start)
    assert calc.process_state is ProcessState.FINISHED


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_saved_state_restores_position_parameters_attributes_and_calculations(
    runtime: Runtime, gate_name: str, protocol: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate(gate_name).set()
    wf = AwaitsCalculation(params={"gate": gate_name})
    wf.start()
    wf.wait(TIMEOUT)
    process = wf._process
    assert process is not None
    blob = pickle.dumps(process.save_instance_state(), protocol=protocol)

    again = type(process).load_instance_state(pickle.loads(blob))
    assert again.workflow is wf  # in this OS process the user's object carries on
    assert wf._process is again

    monkeypatch.setattr(legacy_process, "_live_workflows", weakref.WeakValueDictionary())
    elsewhere = type(process).load_instance_state(pickle.loads(blob))
    restored = elsewhere.workflow
    assert type(restored) is AwaitsCalculation
    assert restored is not wf
    assert restored._process is elsewhere
    assert (restored.pk, restored.get_state()) == (wf.pk, WorkflowState.FINISHED)
    assert (restored.note, restored.seen) == ("kept while waiting", wf.seen)
    assert restored.get_parameters() == {"gate": gate_name}
    assert restored.get_results().keys() == {"value"}
    [calc] = restored.get_step_calculations(AwaitsCalculation.start)
    assert calc.uuid == wf.get_step_calculations(AwaitsCalculation.start)[0].uuid


# RunningInfo.


def test_running_info_is_a_named_tuple_of_type_and_pid(runtime: Runtime) -> None:
    wf = Zigzag()
    pk = _started(wf)

    info = legacy_workflow(pk)  # right after start, its node perhaps not committed yet

    assert info == RunningInfo(RunningType.LEGACY_WORKFLOW, pk)
    assert (info.type, info.pid) == (info[0], info[1])
    assert RunningInfo._fields == ("type", "pid")
    _outputs, calc = runtime.run_get_node(DummyProcess)
    assert legacy_calc(_pk(calc)) == (RunningType.LEGACY_CALC, calc.pk)
    assert {kind.name for kind in RunningType} == {"PROCESS", "LEGACY_CALC", "LEGACY_WORKFLOW"}
    wf.wait(TIMEOUT)


@pytest.mark.parametrize("function", [legacy_calc, legacy_workflow])
@pytest.mark.parametrize(
    ("pk", "error", "match"),
    [
        (None, TypeError, "has no pk yet; start it first"),
        ("3", TypeError, "an int; got '3'"),
        (True, TypeError, "an int; got True"),
        (2.0, TypeError, "an int; got 2.0"),
        (0, ValueError, "pks are positive ints"),
        (-4, ValueError, "pks are positive ints"),
        (424242, NotExistentError, "no node with pk 424242"),
    ],
)
def test_running_info_refuses_what_is_not_the_pk_of_a_stored_node(
    runtime: Runtime, function: Callable[[Any], RunningInfo], pk: Any, error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        function(pk)


def test_running_info_refuses_a_pk_of_the_wrong_kind_and_says_which_to_use(
    runtime: Runtime,
) -> None:
    _outputs, calc = runtime.run_get_node(DummyProcess)
    assert isinstance(calc, Calculation)
    wf = Zigzag()
    wf_pk = _started(wf)
    wf.wait(TIMEOUT)
    data_pk = _pk(Float(1.5).store())

    with pytest.raises(ValueError, match=rf"node {calc.pk} is a Calculation, .*legacy_calc\("):
        legacy_workflow(_pk(calc))
    with pytest.raises(ValueError, match=rf"legacy workflow, .*use legacy_workflow\({wf_pk}\)"):
        legacy_calc(wf_pk)
    with pytest.raises(ValueError, match="is a Float data node, not a calculation"):
        legacy_calc(data_pk)
    with pytest.raises(ValueError, match=r"is a Float, not a legacy workflow$"):
        legacy_workflow(data_pk)


# Awaited by a work chain.


class MyWf(WorkChain):
    """The seed's example: step1 starts a legacy workflow, step2 sees it terminated."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.input("fail", valid_type=Int, default=Int(0))
        spec.output("state", valid_type=Str)
        spec.outline(cls.step1, cls.step2)

    def step1(self) -> ToContext:
        wf = (
            Breaks()
            if self.inputs.fail.value
            else OldEquationOfState(params={"scales": [1.0, 2.0], "structure": Str("Si")})
        )
        wf.start()
        assert wf.pk is not None
        return ToContext(eos=legacy_workflow(wf.pk))

    def step2(self) -> None:
        eos = self.ctx.eos
        assert isinstance(eos, LegacyWorkflowNode)
        assert eos.is_terminated
        self.out("state", Str(f"{eos.legacy_state.name} {sorted(eos.get_results())}"))


@pytest.mark.parametrize(
    ("fail", "seen"),
    [(0, "FINISHED ['structure', 'volumes']"), (1, "ERROR ['partial']")],
)
def test_a_work_chain_awaits_a_legacy_workflow_through_to_context(
    runtime: Runtime, fail: int, seen: str
) -> None:
    outputs, node = runtime.run_get_node(MyWf, fail=Int(fail))

    assert outputs["state"].value == seen
    assert isinstance(node, ProcessNode)
    [called] = node.called
    assert isinstance(called, LegacyWorkflowNode)
    assert called.caller is not None
    assert called.caller.pk == node.pk
