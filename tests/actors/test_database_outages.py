"""What the database failing at the wrong moment must not do: end a process EXCEPTED, or leave
a claimed process held by a worker that never runs it.

A step whose read the database broke off is replayed from the checkpoint. Seen in CI: a
``Forked`` chain ended EXCEPTED after a restart of the shared PostgreSQL server, because its
fourth step reads its children's outputs, and a read raises SQLAlchemy's ``OperationalError``
(the provenance actor's writes say ``DatabaseUnavailableError``, reads did not). The failed
step here raises that error as the driver raises it while the server is down: a real
connection attempt to a port nothing listens on.

An adoption whose reads fail after the claim lets the claimed processes go. Seen in a restart
loop: a worker claimed a chain, the read that follows failed, and the chain sat claimed by
that worker, renewed but never run, until the worker stopped three minutes later. Real
PostgreSQL, real stores.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa

from actors import Checkpointed, Runtime, WorkChain
from persistence.postgres_store import PostgresStore
from provenance import Int, ProcessNode, ProcessState
from provenance.errors import DatabaseUnavailableError
from tests.actors.workchains import Double
from tests.helpers import with_server_option

WAIT = 30.0
#: Nothing listens on port 1: connecting fails at once with the error a stopped server gives.
NOBODY_THERE = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2"


def _read_while_the_server_is_down() -> None:
    engine = sa.create_engine(NOBODY_THERE)
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()


class ReadsThroughAnOutage(WorkChain):
    """Its second step reads; the first time it runs, the database is down."""

    runs: ClassVar[list[str]]

    @classmethod
    def define(cls, spec: Any) -> None:
        super().define(spec)
        spec.output("total", valid_type=Int)
        spec.outline(cls.first, cls.read)

    def first(self) -> None:
        type(self).runs.append("first")
        self.ctx.total = 20

    def read(self) -> None:
        type(self).runs.append("read")
        if type(self).runs.count("read") == 1:
            _read_while_the_server_is_down()
        self.out("total", Int(self.ctx.total + 1))


class WrapsTheOutage(ReadsThroughAnOutage):
    """As above, but user code turns the failed read into an error of its own."""

    def read(self) -> None:
        try:
            super().read()
        except sa.exc.OperationalError as exc:
            raise RuntimeError("could not read the children's outputs") from exc


@pytest.fixture
def stores(shared_database: str) -> Iterator[tuple[PostgresStore, PostgresStore]]:
    key = secrets.token_bytes(32)
    first = PostgresStore(shared_database, key)
    second = PostgresStore(shared_database, key)
    yield first, second
    second.close()
    first.close()


@pytest.mark.parametrize("chain", [ReadsThroughAnOutage, WrapsTheOutage])
def test_a_step_the_database_failed_is_run_again_by_the_next_worker(
    tmp_path: Path,
    shared_database: str,
    stores: tuple[PostgresStore, PostgresStore],
    chain: type[ReadsThroughAnOutage],
) -> None:
    first_store, second_store = stores
    chain.runs = []
    with Runtime(
        tmp_path / "first", database_url=shared_database, durability=Checkpointed(first_store)
    ) as first_worker:
        future = first_worker.run_async(chain)
        error = future.exception(timeout=WAIT)
        assert isinstance(error, DatabaseUnavailableError), error
        assert "Connection refused" in str(error) or "connection failed" in str(error)
        (pid,) = [node.pk for node in _processes(first_worker)]
        node = first_worker.load_node(pid)
        assert isinstance(node, ProcessNode)
        assert node.process_state is ProcessState.RUNNING  # left to its checkpoint, not ended
        assert node.exception is None
        assert first_store.held_pids == frozenset()  # released for whoever claims it next

    with Runtime(
        tmp_path / "second", database_url=shared_database, durability=Checkpointed(second_store)
    ) as second_worker:
        assert second_worker.adopt_checkpoints() == [pid]
        assert second_worker.wait(pid, timeout=WAIT)
        node = second_worker.load_node(pid)
        assert isinstance(node, ProcessNode)
        assert node.process_state is ProcessState.FINISHED, node.exception
        assert node.get_outputs_dict()["total"].value == 21
    assert chain.runs == ["first", "read", "read"]  # the failed step once more, nothing else


def test_a_step_failing_on_its_own_still_ends_excepted(
    tmp_path: Path, shared_database: str, stores: tuple[PostgresStore, PostgresStore]
) -> None:
    """Only the database's failures are replayed: a bug in a step ends the process."""

    class Buggy(ReadsThroughAnOutage):
        def read(self) -> None:
            raise sa.exc.ArgumentError("a statement the step got wrong")

    first_store, _ = stores
    with Runtime(
        tmp_path / "worker", database_url=shared_database, durability=Checkpointed(first_store)
    ) as worker:
        Buggy.runs = []
        future = worker.run_async(Buggy)
        assert isinstance(future.exception(timeout=WAIT), sa.exc.ArgumentError)
        (node,) = _processes(worker)
        assert node.process_state is ProcessState.EXCEPTED
        assert "a statement the step got wrong" in (node.exception or "")


def _processes(runtime: Runtime) -> list[ProcessNode]:
    from provenance import QueryBuilder

    query = QueryBuilder().append(ProcessNode, project="*")
    with runtime.bound():
        return [row[0] for row in query.all()]


def test_an_adoption_the_database_cut_off_keeps_no_claim(
    tmp_path: Path, shared_database: str, stores: tuple[PostgresStore, PostgresStore]
) -> None:
    submitting, adopting = stores
    with Runtime(
        tmp_path / "submitter", database_url=shared_database, durability=Checkpointed(submitting)
    ) as submitter:
        pids = sorted(submitter.queue_up(Double, {"x": Int(x)}) for x in (1, 2, 3))

    impatient = with_server_option(shared_database, "-clock_timeout=300")
    with Runtime(
        tmp_path / "worker", database_url=impatient, durability=Checkpointed(adopting)
    ) as worker:
        blocker = sa.create_engine(shared_database)
        try:
            with blocker.begin() as connection:  # every read of a node waits, then fails
                connection.exec_driver_sql("LOCK TABLE db_node IN ACCESS EXCLUSIVE MODE")
                assert worker.adopt_checkpoints() == []  # each restore deferred, let go
                assert adopting.held_pids == frozenset()
        finally:
            blocker.dispose()

        assert sorted(worker.adopt_checkpoints()) == pids  # nothing left behind
        for pid in pids:
            assert worker.wait(pid, timeout=WAIT)
        states = {pid: _state(worker, pid) for pid in pids}
    assert states == dict.fromkeys(pids, ProcessState.FINISHED)


def _state(runtime: Runtime, pid: int) -> ProcessState | None:
    node = runtime.load_node(pid)
    assert isinstance(node, ProcessNode)
    return node.process_state


def test_processes_claimed_but_not_started_are_let_go(
    tmp_path: Path, shared_database: str, stores: tuple[PostgresStore, PostgresStore]
) -> None:
    """The adoption fails between the claim and the start of the second of three processes
    (here the start itself fails): the first runs, the other two are released, not kept."""
    submitting, adopting = stores
    with Runtime(
        tmp_path / "submitter", database_url=shared_database, durability=Checkpointed(submitting)
    ) as submitter:
        pids = sorted(submitter.queue_up(Double, {"x": Int(x)}) for x in (1, 2, 3))

    with Runtime(
        tmp_path / "worker", database_url=shared_database, durability=Checkpointed(adopting)
    ) as worker:
        started: list[int] = []

        def start_one_then_fail(process: Any, paused: bool) -> None:
            if started:
                raise DatabaseUnavailableError("the server went away between two starts")
            started.append(process.pid)
            worker.launcher.resume(process, paused)

        with pytest.raises(DatabaseUnavailableError):
            worker.checkpoints.adopt(start_one_then_fail)
        assert started == pids[:1]
        assert worker.wait(pids[0], timeout=WAIT)
        assert adopting.held_pids == frozenset()  # the first ended; the others were let go

        assert sorted(worker.adopt_checkpoints()) == pids[1:]
        for pid in pids:
            assert worker.wait(pid, timeout=WAIT)
        states = {pid: _state(worker, pid) for pid in pids}
    assert states == dict.fromkeys(pids, ProcessState.FINISHED)
