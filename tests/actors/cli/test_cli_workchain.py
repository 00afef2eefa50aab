"""``workactors process kill`` and ``process report`` on work chains run in this process."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors import ProcessKilledError, ProcessState, Runtime, ToContext, WorkChain
from actors.workchain import WorkChainSpec
from provenance import Int, Str
from tests.actors.cli.conftest import Cli
from tests.actors.events import EVENT_TIMEOUT, Events
from tests.actors.workchains import AwaitsGated, Double, gate


class Reporter(WorkChain):
    """Reports in each step and awaits a child that reports too."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.outline(cls.launch, cls.collect)

    def launch(self) -> ToContext:
        self.report("launching the child")
        return ToContext(child=self.submit(ReportingChild))

    def collect(self) -> None:
        self.report("child ended %s", self.ctx.child.process_state.name)


class ReportingChild(WorkChain):
    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.outline(cls.work)

    def work(self) -> ToContext:
        self.report("child working")
        return ToContext(double=self.submit(Double, x=Int(2)))


@pytest.fixture
def live_runtime(tmp_path: Path) -> Iterator[tuple[Runtime, Events]]:
    with Runtime(tmp_path / "live") as rt:
        events = Events()
        rt.add_listener(events)
        yield rt, events


def test_process_kill_kills_a_waiting_work_chain_of_this_python_process(
    cli: Cli, live_runtime: tuple[Runtime, Events]
) -> None:
    runtime, events = live_runtime
    name = f"gate-{uuid.uuid4().hex[:8]}"
    try:
        process, done = runtime.launch(AwaitsGated, {"gate": Str(name)})
        events.wait_for(process.pid, "passivated")
        result = cli("process", "kill", str(process.pid), "-m", "from the cli", home=runtime.home)
        assert result.exit_code == 0, result.output
        assert f"Process {process.pid} killed" in result.stdout
        with pytest.raises(ProcessKilledError, match="from the cli"):
            done.result(timeout=EVENT_TIMEOUT)
        assert process.node.process_state is ProcessState.KILLED
    finally:
        gate(name).set()


def test_process_kill_of_a_process_that_ended_says_so(
    cli: Cli, live_runtime: tuple[Runtime, Events]
) -> None:
    runtime, _events = live_runtime
    _result, node = runtime.run_get_node(Double, x=Int(1))
    result = cli("process", "kill", str(node.pk), home=runtime.home)
    assert result.exit_code == 1
    assert f"process {node.pk} has already ended: it is FINISHED" in result.stderr


def test_process_kill_of_an_unknown_pk_fails_cleanly(
    cli: Cli, live_runtime: tuple[Runtime, Events]
) -> None:
    runtime, _events = live_runtime
    result = cli("process", "kill", "9999", home=runtime.home)
    assert result.exit_code == 1
    assert "9999" in result.stderr
    assert "Traceback" not in result.output


def test_process_report_indents_the_whole_call_tree_of_a_work_chain(
    cli: Cli, live_runtime: tuple[Runtime, Events]
) -> None:
    runtime, _events = live_runtime
    _result, node = runtime.run_get_node(Reporter)
    result = cli("process", "report", str(node.pk), home=runtime.home)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "|" in line]
    parent_lines = [line for line in lines if "[Reporter|" in line]
    child_lines = [line for line in lines if "[ReportingChild|" in line]
    assert len(parent_lines) == 2
    assert len(child_lines) == 1

    def indent(line: str) -> int:
        body = line[33:]  # after the time and level columns
        return len(body) - len(body.lstrip())

    assert indent(child_lines[0]) > indent(parent_lines[0])
    order = [line.split("] ", 1)[1] for line in lines]
    assert order.index("launching the child") < order.index("child working")
