"""Abort and kill: a killed work chain ends KILLED with its message reported, children too."""

from __future__ import annotations

import pytest

from actors import ProcessKilledError, ProcessState, Runtime, ToContext, WorkChain
from actors.workchain import WorkChainSpec
from provenance import Int, ProcessNode, Str
from tests.actors.events import EVENT_TIMEOUT, Events
from tests.actors.workchains import AwaitsGated, Double, gate


class Supervisor(WorkChain):
    """Launches two waiting children (each awaiting a gated grandchild) and waits for both."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.input("gate", valid_type=Str)
        spec.outline(cls.launch, cls.never)

    def launch(self) -> ToContext:
        return ToContext(
            first=self.submit(AwaitsGated, gate=self.inputs.gate),
            second=self.submit(AwaitsGated, gate=self.inputs.gate),
        )

    def never(self) -> None:
        raise AssertionError("an aborted work chain runs no further step")


def _messages(node: ProcessNode) -> list[str]:
    return [entry.message for entry in node.logs]


def test_abort_during_a_wait_kills_the_work_chain_and_its_waiting_children(
    runtime: Runtime, events: Events, gate_name: str
) -> None:
    process, done = runtime.launch(Supervisor, {"gate": Str(gate_name)})
    assert isinstance(process, Supervisor)
    events.wait_for(process.pid, "passivated")
    runtime.backend.sync()  # children are written within milliseconds; read once committed
    children = process.node.called
    for child in children:
        events.wait_for(child.pk, "passivated")

    assert process.abort("enough of this", timeout=EVENT_TIMEOUT) is True

    with pytest.raises(ProcessKilledError, match="killed: enough of this"):
        done.result(timeout=EVENT_TIMEOUT)
    node = process.node
    assert node.process_state is ProcessState.KILLED
    assert node.exit_message == "enough of this"
    assert "[Supervisor|on_kill] aborted: enough of this" in _messages(node)
    for child in children:
        events.wait_for(child.pk, "terminated")
        assert child.process_state is ProcessState.KILLED
        assert f"process {node.pk}, was killed: enough of this" in (child.exit_message or "")


def test_a_child_in_the_middle_of_its_step_finishes_that_step(
    runtime: Runtime, events: Events, gate_name: str
) -> None:
    process, done = runtime.launch(AwaitsGated, {"gate": Str(gate_name)})
    events.wait_for(process.pid, "passivated")
    runtime.backend.sync()
    (grandchild,) = process.node.called
    assert runtime.kill(process.pid or 0, "stop") is True
    events.wait_for(process.pid, "terminated")
    gate(gate_name).set()  # the gated step was running: a kill lands between steps only
    events.wait_for(grandchild.pk, "terminated")
    assert grandchild.process_state is ProcessState.FINISHED
    with pytest.raises(ProcessKilledError):
        done.result(timeout=EVENT_TIMEOUT)


def test_abort_from_inside_a_step_takes_effect_when_the_step_ends(runtime: Runtime) -> None:
    returned: list[bool] = []

    class GivesUp(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.outline(cls.first, cls.second)

        def first(self) -> None:
            returned.append(self.abort("nothing to do"))
            self.report("still in first")

        def second(self) -> None:
            raise AssertionError("unreachable")

    with pytest.raises(ProcessKilledError, match="nothing to do"):
        runtime.run(GivesUp)
    assert returned == [False]


def test_abort_nowait_returns_at_once_and_the_work_chain_ends_killed(
    runtime: Runtime, events: Events, gate_name: str
) -> None:
    process, done = runtime.launch(AwaitsGated, {"gate": Str(gate_name)})
    assert isinstance(process, AwaitsGated)
    events.wait_for(process.pid, "passivated")
    process.abort_nowait("later")
    with pytest.raises(ProcessKilledError):
        done.result(timeout=EVENT_TIMEOUT)
    assert process.node.process_state is ProcessState.KILLED


def test_abort_with_a_zero_timeout_reports_whether_it_is_already_over(
    runtime: Runtime, events: Events, gate_name: str
) -> None:
    process, done = runtime.launch(AwaitsGated, {"gate": Str(gate_name)})
    assert isinstance(process, AwaitsGated)
    events.wait_for(process.pid, "passivated")
    result = process.abort("now", timeout=0)
    with pytest.raises(ProcessKilledError):
        done.result(timeout=EVENT_TIMEOUT)
    assert isinstance(result, bool)
    assert process.abort("again", timeout=0) is True  # already KILLED


def test_killing_a_process_that_is_not_live_returns_false(runtime: Runtime) -> None:
    _result, node = runtime.run_get_node(Double, x=Int(1))
    assert runtime.kill(node.pk or 0) is False
    assert runtime.kill(10_000) is False
