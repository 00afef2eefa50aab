"""Process nodes a query finds, read without a query per node (no N+1), on both backends.

A process node reads its state from the database on each access, so that it shows what another
program does to it; once it is FINISHED or KILLED nothing changes it, and the row the query read
is the answer. An EXCEPTED one may still be revived (``requeue``), so it stays live.
"""

from __future__ import annotations

from actors import Runtime, workfunction
from provenance import Calculation, Int, ProcessNode, ProcessState, QueryBuilder
from provenance.records import AttributeUpdate
from tests.provenance.test_querybuilder import Square, statements

RUNS = 12


@workfunction
def increment(x: Int) -> Int:
    """x + 1."""
    return Int(x.value + 1)


def _stored_killed() -> Calculation:
    node = Calculation()
    node.set_process_attributes(process_state=ProcessState.KILLED.value, exit_message="stop")
    return node.store()


def test_reading_the_exit_status_of_many_queried_processes_is_one_statement(
    any_runtime: Runtime,
) -> None:
    for value in range(RUNS):
        any_runtime.run(increment, Int(value))
        any_runtime.run(Square, x=Int(-value - 1))
    _stored_killed()
    any_runtime.backend.sync()

    ended = {
        "or": [
            {"attributes.exit_status": {"in": [0, 300]}},
            {"attributes.process_state": "killed"},
        ]
    }
    with statements(any_runtime.storage) as seen:
        nodes = QueryBuilder().append(ProcessNode, filters=ended, project="*").all(flat=True)
        statuses = [(node.process_state, node.exit_status, node.is_finished_ok) for node in nodes]
        messages = {node.exit_message for node in nodes}
    assert len(seen) == 1, seen
    assert sorted(statuses, key=str) == sorted(
        [(ProcessState.FINISHED, 0, True)] * RUNS
        + [(ProcessState.FINISHED, 300, False)] * RUNS
        + [(ProcessState.KILLED, None, False)],
        key=str,
    )
    assert messages == {None, "the value was negative", "stop"}


def test_projecting_and_filtering_on_the_exit_status_is_one_statement(
    any_runtime: Runtime,
) -> None:
    for value in range(RUNS):
        any_runtime.run(Square, x=Int(-value - 1))
    any_runtime.backend.sync()
    refused = {"attributes.exit_status": {">=": 300}}
    with statements(any_runtime.storage) as seen:
        qb = QueryBuilder().append(
            Square, filters=refused, project=["id", "attributes.exit_status"]
        )
        rows = qb.all()
    assert len(seen) == 1, seen
    assert [status for _pk, status in rows] == [300] * RUNS


def test_an_excepted_process_found_by_a_query_still_shows_its_revival(
    any_runtime: Runtime,
) -> None:
    node = Calculation()
    node.set_process_attributes(process_state=ProcessState.EXCEPTED.value, exception="refused")
    node.store()
    [found] = QueryBuilder().append(Calculation, filters={"id": node.pk}).all(flat=True)
    assert isinstance(found, ProcessNode)
    assert found.process_state is ProcessState.EXCEPTED

    # As ``requeue`` does once the checkpoint's code is back: the process runs again.
    any_runtime.backend.write(
        [AttributeUpdate(node.uuid, {"process_state": ProcessState.RUNNING.value})]
    )
    assert found.process_state is ProcessState.RUNNING
    assert found.exception is None
