"""Passivation: a waiting work chain is written out, its actor stopped, and revived on demand."""

from __future__ import annotations

import uuid

from actors import ProcessState, Runtime, WorkChain
from actors.registry import ChildrenOf, GetActor, ask
from actors.workchain import WorkChainSpec
from provenance import Int, Str
from tests.actors.events import EVENT_TIMEOUT, Events
from tests.actors.workchains import AwaitsGated, Gated, gate


def test_a_waiting_work_chain_holds_no_actor_until_its_child_ends(
    runtime: Runtime, events: Events, gate_name: str
) -> None:
    process, done = runtime.launch(AwaitsGated, {"gate": Str(gate_name)})
    pid = process.pid
    assert pid is not None
    events.wait_for(pid, "passivated")
    assert ask(runtime.registry, GetActor(pid)) is None
    assert runtime.registry_sizes()["passivated"] == 1
    assert pid in runtime.live_pids()
    assert process.node.process_state is ProcessState.WAITING

    gate(gate_name).set()
    assert done.result(timeout=EVENT_TIMEOUT)["value"].value == 7
    events.wait_for(pid, "terminated")
    assert events.kinds(pid) == ["registered", "passivated", "revived", "terminated"]
    assert set(runtime.registry_sizes().values()) == {0}


def test_only_running_processes_keep_an_actor_while_many_wait(
    runtime: Runtime, events: Events, gate_name: str
) -> None:
    launched = [runtime.launch(AwaitsGated, {"gate": Str(gate_name)}) for _ in range(30)]
    for process, _done in launched:
        events.wait_for(process.pid, "passivated")
        assert ask(runtime.registry, GetActor(process.pid or 0)) is None
    # The thread count itself is measured by the scale benchmark (workload 7).
    sizes = runtime.registry_sizes()
    assert (sizes["passivated"], sizes["actors"]) == (30, 30)  # the 30 gated children run
    gate(gate_name).set()
    for _process, done in launched:
        assert done.result(timeout=EVENT_TIMEOUT)["value"].value == 7


def test_without_passivation_a_waiting_work_chain_keeps_its_actor(home: object) -> None:
    name = f"gate-{uuid.uuid4().hex[:8]}"
    with Runtime(home, passivation=False) as rt:  # type: ignore[arg-type]
        listener = Events()
        rt.add_listener(listener)
        process, done = rt.launch(AwaitsGated, {"gate": Str(name)})
        gate(name).set()
        assert done.result(timeout=EVENT_TIMEOUT)["value"].value == 7
        assert process.pid is not None
        assert "passivated" not in listener.kinds(process.pid)


def test_a_work_chain_of_a_local_class_is_passivated_and_revived(
    runtime: Runtime, events: Events, gate_name: str
) -> None:
    class LocalParent(WorkChain):
        @classmethod
        def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
            super().define(spec)
            spec.input("gate", valid_type=Str)
            spec.output("value", valid_type=Int)
            spec.outline(cls.launch, cls.collect)

        def launch(self) -> None:
            self.ctx.note = "kept across passivation"
            self.to_context(child=self.submit(AwaitsGated, gate=self.inputs.gate))

        def collect(self) -> None:
            assert self.ctx.note == "kept across passivation"
            self.out("value", self.ctx.child.get_outputs_dict()["value"])

    process, done = runtime.launch(LocalParent, {"gate": Str(gate_name)})
    events.wait_for(process.pid, "passivated")
    gate(gate_name).set()
    assert done.result(timeout=EVENT_TIMEOUT)["value"].value == 7


class AwaitsTwoGated(WorkChain):
    """Waits on two ``Gated`` children with gates of their own."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.input("first", valid_type=Str)
        spec.input("second", valid_type=Str)
        spec.output("value", valid_type=Int)
        spec.outline(cls.launch, cls.collect)

    def launch(self) -> None:
        self.to_context(first=self.submit(Gated, gate=self.inputs.first, value=Int(3)))
        self.to_context(second=self.submit(Gated, gate=self.inputs.second, value=Int(4)))

    def collect(self) -> None:
        first = self.ctx.first.get_outputs_dict()["value"].value
        second = self.ctx.second.get_outputs_dict()["value"].value
        self.out("value", Int(first * 10 + second))


def test_a_waiter_is_revived_by_the_end_of_its_last_child_not_its_first(
    runtime: Runtime, events: Events
) -> None:
    first, second = (f"gate-{uuid.uuid4().hex[:8]}" for _ in range(2))
    process, done = runtime.launch(AwaitsTwoGated, {"first": Str(first), "second": Str(second)})
    pid = process.pid
    assert pid is not None
    events.wait_for(pid, "passivated")
    first_child = min(ask(runtime.registry, ChildrenOf(pid)))  # launched first

    gate(first).set()
    events.wait_for(first_child, "terminated")
    assert ask(runtime.registry, GetActor(pid)) is None  # still passivated: one child is left
    assert runtime.registry_sizes()["held_ends"] == 1
    assert "revived" not in events.kinds(pid)

    gate(second).set()
    assert done.result(timeout=EVENT_TIMEOUT)["value"].value == 34
    events.wait_for(pid, "terminated")
    assert events.kinds(pid) == ["registered", "passivated", "revived", "terminated"]
    assert set(runtime.registry_sizes().values()) == {0}
