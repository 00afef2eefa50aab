"""A bad value fails only its own write: never another's commit, never the provenance actor."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from actors import Process, ProcessSpec, Runtime, workfunction
from provenance import (
    Int,
    InvalidValueError,
    LinkType,
    NotExistentError,
    ProcessState,
    StorageError,
    load_node,
)
from provenance.actor import Write
from provenance.actor_messages import Reply
from provenance.models import DbNode
from provenance.pending_updates import PendingUpdates, QueuedUpdate
from provenance.process_nodes import Calculation
from provenance.records import AttributeUpdate, LinkRecord, LogRecord, NodeRecord
from provenance.row_writers import row_writer
from provenance.uuids import new_uuid

NUL_MESSAGE = "a NUL \x00 in the message"
SURROGATE_MESSAGE = "a lone surrogate \udce9 in the message"


class Doubler(Process):
    """Doubles ``x``; raises with an awkward message for the two values that must fail."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.output("y", valid_type=Int)

    def run(self) -> None:
        x = self.inputs.x.value
        if x == -1:
            raise ValueError(NUL_MESSAGE)
        if x == -2:
            raise ValueError(SURROGATE_MESSAGE)
        self.out("y", Int(2 * x))


def test_one_process_failing_with_nul_or_a_surrogate_fails_no_other_of_100_launched_at_once(
    any_runtime: Runtime,
) -> None:
    values = [*range(49), -1, *range(49, 98), -2]
    launched = [any_runtime.launch(Doubler, {"x": Int(value)}) for value in values]
    outcomes: dict[int, Any] = {}
    for (process, done), value in zip(launched, values, strict=True):
        try:
            outcomes[value] = done.result(timeout=60)
        except ValueError as exc:
            outcomes[value] = exc
        assert process.pid is not None
    any_runtime.backend.sync()

    for (process, _done), value in zip(launched, values, strict=True):
        node = load_node(process.pid)  # type: ignore[arg-type]
        if value < 0:
            assert node.process_state is ProcessState.EXCEPTED  # type: ignore[attr-defined]
            expected = "NUL \\x00 in" if value == -1 else "surrogate \\udce9 in"
            assert expected in node.exception  # type: ignore[attr-defined]
            assert isinstance(outcomes[value], ValueError)
            continue
        assert node.process_state is ProcessState.FINISHED, value  # type: ignore[attr-defined]
        assert node.exit_status == 0  # type: ignore[attr-defined]
        assert node.get_inputs_dict(LinkType.INPUT)["x"].value == value  # type: ignore[attr-defined]
        assert node.get_outputs_dict(LinkType.CREATE)["y"].value == 2 * value  # type: ignore[attr-defined]
        assert outcomes[value]["y"].value == 2 * value


def test_an_int_of_5000_digits_is_refused_at_once_and_the_runtime_keeps_working(
    any_runtime: Runtime,
) -> None:
    @workfunction
    def add(a: Int, b: Int) -> Int:
        return a + b

    started = time.monotonic()
    with pytest.raises(InvalidValueError, match=r"integer of 16610 bits.*signed 64 bits"):
        any_runtime.run(add, Int(10**5000), Int(1))
    assert time.monotonic() - started < 5
    assert any_runtime.run(add, Int(1), Int(2)) == 3


def test_a_record_with_an_int_beyond_64_bits_sent_to_the_actor_fails_alone_and_at_once(
    any_runtime: Runtime,
) -> None:
    backend = any_runtime.backend
    bad = new_uuid()
    started = time.monotonic()
    with pytest.raises(
        InvalidValueError, match=rf"attributes of node {bad}\['value'\].*16610 bits"
    ):
        backend.write([NodeRecord(bad, "data.int", {"value": 10**5000})])
    assert time.monotonic() - started < 5
    assert Int(7).store().is_stored
    with pytest.raises(NotExistentError, match="no node"):
        load_node(bad)


@pytest.mark.parametrize("text", [NUL_MESSAGE, SURROGATE_MESSAGE], ids=["nul", "surrogate"])
def test_a_raw_attribute_update_with_bad_text_fails_its_writer_and_no_other_write(
    any_runtime: Runtime, text: str
) -> None:
    backend = any_runtime.backend
    victim = Calculation().store()
    good = [Calculation().store() for _ in range(20)]
    for index, node in enumerate(good):
        backend.write_nowait([node.set_process_attributes(process_state="finished", n=index)])
    reply: Reply[dict[str, int]] = Reply()
    any_runtime._provenance_ref.tell(
        Write((AttributeUpdate(victim.uuid, {"exception": text}),), reply)
    )
    fresh = [new_uuid() for _ in range(20)]
    for uuid in fresh:
        backend.write_nowait([NodeRecord(uuid, "data.int", {"value": 1})])
    backend.sync()

    with pytest.raises(InvalidValueError, match=rf"node {victim.uuid}.*\['exception'\]"):
        reply.result(timeout=10)
    for index, node in enumerate(good):
        assert load_node(node.pk).attributes == {"process_state": "finished", "n": index}
    with any_runtime.storage.read_session() as session:
        stored = session.execute(sa.select(DbNode.uuid).where(DbNode.uuid.in_(fresh))).scalars()
        assert set(stored) == set(fresh)


def test_a_bad_write_nobody_waits_for_is_logged_naming_the_field(any_runtime: Runtime) -> None:
    node = Calculation().store()
    with capture_logs() as logs:
        any_runtime.backend.write_nowait([AttributeUpdate(node.uuid, {"exit_message": "\x00"})])
        any_runtime.backend.sync()
    errors = [entry for entry in logs if entry["log_level"] == "error"]
    assert [entry["event"] for entry in errors] == ["provenance.write_failed"]
    assert "['exit_message']" in errors[0]["error"]
    assert "NUL" in errors[0]["error"]
    assert Int(1).store().is_stored


def test_bad_links_and_log_records_are_refused_before_anything_is_applied(
    any_runtime: Runtime,
) -> None:
    backend = any_runtime.backend
    source, target = Int(1).store(), Int(2).store()
    node = new_uuid()
    with pytest.raises(InvalidValueError, match=r"the label of the link.*256 characters"):
        backend.write(
            [
                NodeRecord(node, "data.int", {"value": 1}),
                LinkRecord(source.uuid, target.uuid, LinkType.INPUT, "x" * 256),
            ]
        )
    with pytest.raises(NotExistentError):
        load_node(node)
    with pytest.raises(InvalidValueError, match=r"the message of the log record.*surrogate"):
        backend.write([LogRecord(source.pk, "INFO", "x", "\udce9", time=_now())])  # type: ignore[arg-type]


def test_something_that_is_not_a_record_fails_its_writer_and_the_actor_lives_on(
    any_runtime: Runtime,
) -> None:
    reply: Reply[dict[str, int]] = Reply()
    any_runtime._provenance_ref.tell(Write(("not a record",), reply))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not a provenance record"):
        reply.result(timeout=10)
    assert any_runtime._provenance_ref.is_alive()
    assert Int(3).store().is_stored


def test_when_the_batched_update_fails_only_the_bad_update_is_lost(any_runtime: Runtime) -> None:
    """The fallback behind the value check: a statement the database refuses is charged to
    the update that caused it, and the updates of other nodes and older ones still land."""
    first, second = Calculation().store(), Calculation().store()
    pending = PendingUpdates()
    older: Reply[Any] = Reply()
    bad: Reply[Any] = Reply()
    fine: Reply[Any] = Reply()
    pending.add(first.pk, QueuedUpdate(first.uuid, {"state": "older"}, older))  # type: ignore[arg-type]
    pending.add(first.pk, QueuedUpdate(first.uuid, {"state": object()}, bad))  # type: ignore[arg-type]
    pending.add(second.pk, QueuedUpdate(second.uuid, {"state": "fine"}, fine))  # type: ignore[arg-type]
    with any_runtime.storage.write_engine.connect() as connection:
        pending.flush(connection, row_writer(any_runtime.storage.dialect))
        connection.commit()

    with pytest.raises(StorageError, match=rf"attribute update of node {first.uuid}"):
        bad.result(timeout=0)
    assert not older.done()
    assert not fine.done()
    assert load_node(first.pk).attributes == {"state": "older"}
    assert load_node(second.pk).attributes == {"state": "fine"}


def test_when_the_connection_dies_the_commit_fails_as_a_whole(pg_runtime: Runtime) -> None:
    """Seen after a PostgreSQL restart: the update of a child's end failed on the dead
    connection, was charged to the end alone as a ``StorageError``, and the child was
    published as finished without its outputs stored. Nothing can be stored on a dead
    connection: the error goes to the commit, which tells every writer to try again."""
    with pg_runtime.bound():
        node = Calculation().store()
    pending = PendingUpdates()
    end: Reply[Any] = Reply()
    pending.add(node.pk, QueuedUpdate(node.uuid, {"process_state": "finished"}, end))  # type: ignore[arg-type]
    engine = pg_runtime.storage.write_engine
    with engine.connect() as connection:
        backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(backend)})")
        with pytest.raises(sa.exc.OperationalError):
            pending.flush(connection, row_writer("postgresql"))
    assert not end.done()  # left to the commit's rollback, which fails it as unavailable
    assert pg_runtime.load_node(node.pk).attributes == {}


def _now() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.UTC)


def test_an_input_name_with_a_nul_is_refused_at_launch_and_the_runtime_keeps_working(
    any_runtime: Runtime,
) -> None:
    @workfunction
    def total(**values: Int) -> Int:
        return Int(sum(value.value for value in values.values()))

    with pytest.raises(InvalidValueError, match=r"the label of the link .*NUL character"):
        any_runtime.run(total, **{"a\x00b": Int(1)})
    assert any_runtime.run(total, a=Int(1), b=Int(2)) == 3


def test_a_rolled_back_node_is_forgotten_so_a_link_never_reaches_a_reused_pk(
    any_runtime: Runtime,
) -> None:
    """SQLite gives a rolled-back pk to the next node: a stale cache entry would link to it."""
    backend = any_runtime.backend
    lost, missing = new_uuid(), new_uuid()
    with pytest.raises(NotExistentError):
        backend.write(
            [
                NodeRecord(lost, "data.int", {"value": 1}),
                LinkRecord(lost, missing, LinkType.INPUT, "x"),
            ]
        )
    bystander = Int(2).store()
    target = Int(3).store()
    with pytest.raises(NotExistentError, match=lost):
        backend.write([LinkRecord(lost, target.uuid, LinkType.INPUT, "y")])
    assert load_node(target.pk).get_inputs() == []  # type: ignore[arg-type]
    assert bystander.is_stored
