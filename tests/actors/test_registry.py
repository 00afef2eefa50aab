"""The registry's memory of ended children: bounded, and a dropped one is read from the
database when it is awaited after all."""

from __future__ import annotations

import uuid
from concurrent.futures import Future
from typing import Any

import pytest

from actors import Runtime, ToContext, WorkChain
from actors.workchain import WorkChainSpec
from provenance import Int, List, Str
from tests.actors.events import Events
from tests.actors.workchains import Double, Gated, gate
from tests.helpers import read_queries


class LateWaiter(WorkChain):
    """Launches ``count`` children without waiting, then awaits them in a later step."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.input("gate", valid_type=Str)
        spec.input("count", valid_type=Int, default=Int(5))
        spec.output("values", valid_type=List)
        spec.outline(cls.launch, cls.await_them, cls.collect)

    def launch(self) -> ToContext:
        self.ctx.children = [
            self.submit(Double, x=Int(index)) for index in range(self.inputs.count.value)
        ]
        return ToContext(held=self.submit(Gated, gate=self.inputs.gate))

    def await_them(self) -> None:
        for child in self.ctx.children:
            self.insert_barrier(child)

    def collect(self) -> None:
        values = [child.get_outputs_dict()["y"].value for child in self.ctx.children]
        self.out("values", List(values))


def launch_and_let_children_end(
    runtime: Runtime, name: str, count: int
) -> tuple[Future[Any], set[int]]:
    """Launch a ``LateWaiter`` of ``count`` children held at gate ``name``; return once every
    child has ended while the parent waits, passivated (its future, the children's pks)."""
    events = Events()
    runtime.add_listener(events)
    process, done = runtime.launch(LateWaiter, {"gate": Str(name), "count": Int(count)})
    events.wait_for(process.pid, "passivated")
    runtime.backend.sync()
    doubles = {child.pk for child in process.node.called if child.process_label == "Double"}
    assert len(doubles) == count
    for pk in doubles:
        events.wait_for(pk, "terminated")
    runtime.remove_listener(events)
    return done, doubles


def test_children_dropped_from_a_full_memory_are_still_awaited_correctly(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("actors.registry.ENDED_CHILDREN_LIMIT", 3)
    name = f"gate-{uuid.uuid4().hex[:8]}"
    try:
        done, _doubles = launch_and_let_children_end(runtime, name, 5)
        assert runtime.registry_sizes()["ended_children"] == 3  # the oldest two were dropped
    finally:
        gate(name).set()
    assert done.result(timeout=10)["values"].value == [0, 2, 4, 6, 8]
    assert set(runtime.registry_sizes().values()) == {0}


def test_children_dropped_from_memory_are_read_together_not_one_query_each(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, gate_name: str
) -> None:
    # A driver of 100,000 waiters found 90,000 of them dropped, and read each with two
    # queries on its one thread: minutes that grew with the batch.
    monkeypatch.setattr("actors.registry.ENDED_CHILDREN_LIMIT", 2)
    done, doubles = launch_and_let_children_end(runtime, gate_name, 12)
    assert runtime.registry_sizes()["ended_children"] == 2  # ten were dropped
    with read_queries(runtime) as queries:
        gate(gate_name).set()
        assert done.result(timeout=10)["values"].value == [2 * index for index in range(12)]
    point_reads = [
        params
        for statement, params in queries
        if "WHERE db_node.id = ?" in statement and set(params) & doubles
    ]
    batched = [params for statement, params in queries if "db_node.id IN" in statement]
    assert point_reads == []
    assert len(batched) == 1
    # The ten dropped while the parent waited, and one more that the held child's end pushed out.
    assert len(set(batched[0]) & doubles) == 11
