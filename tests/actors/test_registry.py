"""The registry's memory of ended children: bounded, and a dropped one is read from the
database when it is awaited after all."""

from __future__ import annotations

import uuid

import pytest

from actors import Runtime, ToContext, WorkChain
from actors.workchain import WorkChainSpec
from provenance import Int, List, Str
from tests.actors.events import Events
from tests.actors.workchains import Double, Gated, gate


class LateWaiter(WorkChain):
    """Launches five children without waiting, then awaits them in a later step."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.input("gate", valid_type=Str)
        spec.output("values", valid_type=List)
        spec.outline(cls.launch, cls.await_them, cls.collect)

    def launch(self) -> ToContext:
        self.ctx.children = [self.submit(Double, x=Int(index)) for index in range(5)]
        return ToContext(held=self.submit(Gated, gate=self.inputs.gate))

    def await_them(self) -> None:
        for child in self.ctx.children:
            self.insert_barrier(child)

    def collect(self) -> None:
        values = [child.get_outputs_dict()["y"].value for child in self.ctx.children]
        self.out("values", List(values))


def test_children_dropped_from_a_full_memory_are_still_awaited_correctly(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("actors.registry.ENDED_CHILDREN_LIMIT", 3)
    events = Events()
    runtime.add_listener(events)
    name = f"gate-{uuid.uuid4().hex[:8]}"
    try:
        process, done = runtime.launch(LateWaiter, {"gate": Str(name)})
        events.wait_for(process.pid, "passivated")
        runtime.backend.sync()
        doubles = [child for child in process.node.called if child.process_label == "Double"]
        assert len(doubles) == 5
        for child in doubles:
            events.wait_for(child.pk, "terminated")  # all end while the parent waits
        assert runtime.registry_sizes()["ended_children"] == 3  # the oldest two were dropped
    finally:
        gate(name).set()
    assert done.result(timeout=10)["values"].value == [0, 2, 4, 6, 8]
    assert set(runtime.registry_sizes().values()) == {0}
