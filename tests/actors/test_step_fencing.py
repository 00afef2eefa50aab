"""Nodes a user stores in a step are fenced like the engine's own writes (issue 11).

A worker whose claim on a process was taken over by another (its lease ran out while it was
paused or partitioned) must change nothing more for that process: not its checkpoint, not the
provenance of its steps, and not a node that the step's own code stores with ``node.store()``.
Real PostgreSQL, two real stores; the lease "runs out" by moving its expiry into the past.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa

from actors import Checkpointed, Runtime, ToContext, WorkChain, workfunction
from persistence.postgres_store import PostgresStore
from provenance import Int, ProcessState
from provenance.errors import FencedError
from provenance.storage import Storage
from tests.actors.workchains import Double
from tests.persistence.test_postgres_store import _expire

WAIT = 30.0


@workfunction
def doubled(x: Int) -> Int:
    """Stores its result under the claim of the work chain whose step calls it."""
    return Int(x.value * 2)


class TakenOverInAStep(WorkChain):
    """A chain whose one step waits until the test took its claim over, then writes."""

    in_step: ClassVar[threading.Event]
    taken_over: ClassVar[threading.Event]
    outcomes: ClassVar[dict[str, str]]

    def _wait_for_the_takeover(self) -> None:
        type(self).in_step.set()
        assert type(self).taken_over.wait(WAIT)


class StoresInAStep(TakenOverInAStep):
    """Stores two nodes in its step, once taken over."""

    @classmethod
    def define(cls, spec: Any) -> None:
        super().define(spec)
        spec.outline(cls.store_late)

    def store_late(self) -> None:
        self._wait_for_the_takeover()
        for name, store in (
            ("node.store()", lambda: Int(424242).store()),
            ("workfunction", lambda: doubled(Int(212121))),
        ):
            try:
                store()
            except FencedError as exc:
                type(self).outcomes[name] = f"refused: {exc}"
            else:
                type(self).outcomes[name] = "stored"


class ForksInAStep(TakenOverInAStep):
    """Launches a child in its step, once taken over, as ``Forked`` of the daemon tests does in
    its third step."""

    @classmethod
    def define(cls, spec: Any) -> None:
        super().define(spec)
        spec.outline(cls.fork)

    def fork(self) -> ToContext | None:
        self._wait_for_the_takeover()
        try:
            child = self.submit(Double, x=Int(343434))
        except FencedError as exc:
            type(self).outcomes["submit"] = f"refused: {exc}"
            return None
        type(self).outcomes["submit"] = "launched"
        return ToContext(child=child)


@pytest.fixture
def stores(shared_database: str) -> Iterator[tuple[PostgresStore, PostgresStore]]:
    key = secrets.token_bytes(32)
    stale = PostgresStore(shared_database, key, lock_timeout=0.2)
    fresh = PostgresStore(shared_database, key, lock_timeout=0.2)
    yield stale, fresh
    fresh.close()
    stale.close()


def _values_stored(url: str, *values: int) -> list[Any]:
    storage = Storage(url)
    try:
        with storage.read_session() as session:
            rows = session.execute(sa.text("SELECT attributes FROM db_node")).scalars().all()
    finally:
        storage.dispose()
    return [value for value in values if any(str(value) in str(row) for row in rows)]


def _calls_of(url: str, pid: int) -> int:
    storage = Storage(url)
    try:
        with storage.read_session() as session:
            query = "SELECT count(*) FROM db_link WHERE input_id = :pid AND link_type LIKE 'call%'"
            return int(session.execute(sa.text(query), {"pid": pid}).scalar_one())
    finally:
        storage.dispose()


def _returned_by(url: str, pid: int) -> list[str]:
    storage = Storage(url)
    try:
        with storage.read_session() as session:
            query = (
                "SELECT label FROM db_link WHERE input_id = :pid "
                "AND link_type IN ('create', 'return')"
            )
            return sorted(session.execute(sa.text(query), {"pid": pid}).scalars())
    finally:
        storage.dispose()


def _run_taken_over_in_its_step(
    chain: type[TakenOverInAStep],
    tmp_path: Path,
    url: str,
    stores: tuple[PostgresStore, PostgresStore],
    *,
    found_lost: bool,
) -> int:
    """Run ``chain`` on the stale store's worker and take it over by the fresh one while it is
    in its step (the stale keeper finding the loss first if ``found_lost``); its pid."""
    stale, fresh = stores
    chain.in_step = threading.Event()
    chain.taken_over = threading.Event()
    chain.outcomes = {}
    with Runtime(tmp_path / "worker", database_url=url, durability=Checkpointed(stale)) as worker:
        future = worker.run_async(chain)
        assert chain.in_step.wait(WAIT)
        (pid,) = stale.held_pids
        _expire(stale)
        fresh.take_over(pid)
        if found_lost:
            assert stale._keeper.renew_now() == [pid]  # its next renewal finds the loss
            assert stale.held_pids == frozenset()
        chain.taken_over.set()
        future.exception(timeout=WAIT)  # however the stale run ends, it ends
    return pid


@pytest.mark.parametrize("found_lost", [False, True], ids=["unnoticed", "found-lost"])
def test_nodes_stored_in_a_step_after_a_takeover_are_refused(
    tmp_path: Path,
    shared_database: str,
    stores: tuple[PostgresStore, PostgresStore],
    found_lost: bool,
) -> None:
    """Whether or not the stale worker's lease keeper found the claim lost before the step
    stores: once it has, the claim is no longer held, but its writes are refused all the same."""
    _run_taken_over_in_its_step(
        StoresInAStep, tmp_path, shared_database, stores, found_lost=found_lost
    )
    assert set(StoresInAStep.outcomes) == {"node.store()", "workfunction"}
    assert all(o.startswith("refused: ") for o in StoresInAStep.outcomes.values()), (
        StoresInAStep.outcomes
    )
    assert _values_stored(shared_database, 424242, 212121, 424242 * 2) == []


def test_nodes_stored_in_a_step_under_a_live_claim_are_written(
    tmp_path: Path, shared_database: str, stores: tuple[PostgresStore, PostgresStore]
) -> None:
    stale, _fresh = stores
    StoresInAStep.in_step = threading.Event()
    StoresInAStep.taken_over = threading.Event()
    StoresInAStep.taken_over.set()
    StoresInAStep.outcomes = {}
    with Runtime(
        tmp_path / "worker", database_url=shared_database, durability=Checkpointed(stale)
    ) as worker:
        worker.run(StoresInAStep)
    assert StoresInAStep.outcomes == {"node.store()": "stored", "workfunction": "stored"}
    assert _values_stored(shared_database, 424242, 212121, 424242) == [424242, 212121, 424242]


def test_a_child_launched_in_a_step_after_the_claim_was_found_lost_is_refused(
    tmp_path: Path, shared_database: str, stores: tuple[PostgresStore, PostgresStore]
) -> None:
    """The worker that took the process over replays the step and launches the child itself: a
    launch by the stale worker, whose lease keeper had already dropped the lost claim, was not
    fenced and made a second one (a ``Forked`` chain with four children instead of two)."""
    pid = _run_taken_over_in_its_step(
        ForksInAStep, tmp_path, shared_database, stores, found_lost=True
    )
    assert ForksInAStep.outcomes["submit"].startswith("refused: "), ForksInAStep.outcomes
    assert _calls_of(shared_database, pid) == 0
    assert _values_stored(shared_database, 343434) == []


class ClaimedAgainMidStep(WorkChain):
    """Three steps; the second launches a child and, the first time it runs, waits until the
    test has had the process claimed again by the same store (under a new epoch)."""

    runs: ClassVar[list[str]]
    in_step: ClassVar[threading.Event]
    claimed_again: ClassVar[threading.Event]

    @classmethod
    def define(cls, spec: Any) -> None:
        super().define(spec)
        spec.output("total", valid_type=Int)
        spec.outline(cls.one, cls.launch, cls.after)

    def one(self) -> None:
        type(self).runs.append("one")

    def launch(self) -> ToContext:
        type(self).runs.append("launch")
        if type(self).runs.count("launch") == 1:
            type(self).in_step.set()
            assert type(self).claimed_again.wait(WAIT)
        return ToContext(child=self.submit(Double, x=Int(21)))

    def after(self) -> None:
        type(self).runs.append("after")
        self.out("total", Int(self.ctx.child.get_outputs_dict()["y"].value))


def test_an_actor_whose_claim_was_taken_and_given_back_writes_nothing_more(
    tmp_path: Path, shared_database: str, stores: tuple[PostgresStore, PostgresStore]
) -> None:
    """The claim of an actor mid-step is found lost; the other worker lets it go, and the same
    store claims the process again: a new actor replays the step and ends the process. The old
    actor, its step over, must not carry on under the new claim (checkpoint, steps, a second
    end): everything it writes is fenced by the claim it started with."""
    stale, fresh = stores
    chain = ClaimedAgainMidStep
    chain.runs, chain.in_step, chain.claimed_again = [], threading.Event(), threading.Event()
    with Runtime(
        tmp_path / "worker", database_url=shared_database, durability=Checkpointed(stale)
    ) as worker:
        stale.on_lease_lost = worker._lost  # as a worker's own database store is wired
        old_run = worker.run_async(chain)
        assert chain.in_step.wait(WAIT)
        (pid,) = stale.held_pids
        _expire(stale)
        fresh.take_over(pid)
        for lost in stale._keeper.renew_now():  # what the lease keeper's loop does
            worker._lost(lost)
        assert fresh.release(pid)
        assert worker.adopt_checkpoints() == [pid]  # the same store, a new claim
        assert worker.wait(pid, timeout=WAIT)
        chain.claimed_again.set()
        assert isinstance(old_run.exception(timeout=WAIT), FencedError)
        node = worker.load_node(pid)
    assert chain.runs == ["one", "launch", "launch", "after"]
    assert node.process_state is ProcessState.FINISHED
    assert _returned_by(shared_database, pid) == ["total"]  # one end stored, not two
    assert _calls_of(shared_database, pid) == 1
