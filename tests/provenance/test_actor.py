"""The provenance actor: all-or-nothing writes, read-your-writes, batching, log records."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
import structlog
from structlog.testing import capture_logs

from actors import Runtime, workfunction
from actors.process import REPORT_LOGGER_NAME
from provenance import (
    Calculation,
    DbLogHandler,
    Int,
    LinkType,
    NotExistentError,
    ProcessNode,
    StorageError,
    load_node,
)
from provenance.errors import DatabaseUnavailableError
from provenance.models import DbLink, DbNode
from provenance.records import AttributeUpdate, LinkRecord, LogRecord, NodeRecord
from provenance.storage import Storage
from provenance.uuids import new_uuid
from provenance.write_application import storage_failure
from tests.helpers import count_links, count_nodes, with_query


def node_record(value: int = 0, uuid: str | None = None) -> NodeRecord:
    """The record of an Int node."""
    return NodeRecord(uuid or new_uuid(), "data.int", {"value": value})


@contextmanager
def independent_storage(rt: Runtime) -> Iterator[Storage]:
    """A second Storage on the runtime's database: it sees only what was committed."""
    storage = Storage(rt.storage.url)
    try:
        yield storage
    finally:
        storage.dispose()


def stored_uuids(storage: Storage, uuids: list[str]) -> set[str]:
    """Which of ``uuids`` are in the database of ``storage``."""
    with storage.read_session() as session:
        return set(session.execute(sa.select(DbNode.uuid).where(DbNode.uuid.in_(uuids))).scalars())


# All or nothing.


def test_a_write_linking_to_a_never_stored_uuid_raises_and_leaves_no_partial_rows(
    any_runtime: Runtime,
) -> None:
    backend = any_runtime.backend
    nodes_before, links_before = count_nodes(any_runtime), count_links(any_runtime)
    source, missing = new_uuid(), new_uuid()

    with pytest.raises(NotExistentError, match=missing):
        backend.write([node_record(1, source), LinkRecord(source, missing, LinkType.INPUT, "x")])

    assert (count_nodes(any_runtime), count_links(any_runtime)) == (nodes_before, links_before)
    with pytest.raises(NotExistentError):
        load_node(source)
    created = backend.write([node_record(2, source)])
    assert load_node(source).pk == created[source]
    assert count_nodes(any_runtime) == nodes_before + 1


def test_a_write_that_breaks_a_constraint_raises_storage_error_and_leaves_no_partial_rows(
    any_runtime: Runtime,
) -> None:
    backend = any_runtime.backend
    existing = Int(1).store()
    before = count_nodes(any_runtime)
    fresh = new_uuid()

    with pytest.raises(StorageError, match="rolled back"):
        backend.write([node_record(2, fresh), node_record(3, existing.uuid)])

    assert count_nodes(any_runtime) == before
    with pytest.raises(NotExistentError):
        load_node(fresh)
    assert Int(4).store().is_stored
    assert count_nodes(any_runtime) == before + 1


def test_a_failed_write_does_not_undo_the_uncommitted_writes_before_it(
    any_runtime: Runtime,
) -> None:
    backend = any_runtime.backend
    queued = [new_uuid() for _ in range(3)]
    for uuid in queued:
        backend.write_nowait([node_record(uuid=uuid)])

    with pytest.raises(NotExistentError):
        backend.write([LinkRecord(queued[0], new_uuid(), LinkType.CREATE, "lost")])
    backend.sync()

    with independent_storage(any_runtime) as storage:
        assert stored_uuids(storage, queued) == set(queued)


def test_a_failed_write_nobody_waits_for_is_logged_and_later_writes_succeed(
    runtime: Runtime,
) -> None:
    backend = runtime.backend
    before = count_nodes(runtime)
    bad = new_uuid()
    with capture_logs() as logs:
        backend.write_nowait(
            [node_record(uuid=bad), LinkRecord(bad, new_uuid(), LinkType.CALL, "x")]
        )
        backend.sync()
    assert [entry["event"] for entry in logs if entry["log_level"] == "error"] == [
        "provenance.write_failed"
    ]
    assert count_nodes(runtime) == before
    assert Int(1).store().is_stored


def test_links_may_name_nodes_created_in_the_same_write_in_any_order(any_runtime: Runtime) -> None:
    source, target = new_uuid(), new_uuid()
    created = any_runtime.backend.write(
        [
            LinkRecord(source, target, LinkType.CREATE, "result"),
            node_record(1, source),
            node_record(2, target),
        ]
    )
    assert set(created) == {source, target}
    with any_runtime.storage.read_session() as session:
        link = session.execute(sa.select(DbLink)).scalar_one()
    assert (link.input_id, link.output_id) == (created[source], created[target])
    assert (link.link_type, link.label) == ("create", "result")


# Read your writes.


def test_after_write_returns_its_rows_are_visible_to_a_new_read_session(
    any_runtime: Runtime,
) -> None:
    uuids = [new_uuid() for _ in range(3)]

    created = any_runtime.backend.write(
        [node_record(index, uuid) for index, uuid in enumerate(uuids)]
    )

    assert set(created) == set(uuids)
    with any_runtime.storage.read_session() as session:
        rows = session.execute(sa.select(DbNode.uuid, DbNode.id).where(DbNode.uuid.in_(uuids)))
        assert dict(rows.all()) == dict(created)
    with independent_storage(any_runtime) as storage:
        assert stored_uuids(storage, uuids) == set(uuids)


def test_write_applied_returns_the_pks_that_are_later_committed(any_runtime: Runtime) -> None:
    uuid = new_uuid()
    created = any_runtime.backend.write_applied([node_record(5, uuid)])
    any_runtime.backend.sync()
    assert load_node(created[uuid]).uuid == uuid


def test_a_write_returns_pks_of_new_nodes_only(runtime: Runtime) -> None:
    first, second = Int(1).store(), Int(2).store()
    created = runtime.backend.write([LinkRecord(first.uuid, second.uuid, LinkType.INPUT, "x")])
    assert created == {}


def test_many_writes_without_waiting_are_all_committed_by_sync(any_runtime: Runtime) -> None:
    backend = any_runtime.backend
    before = count_nodes(any_runtime)
    uuids = [new_uuid() for _ in range(300)]

    for index, uuid in enumerate(uuids):
        backend.write_nowait([node_record(index, uuid)])
    backend.sync()

    assert count_nodes(any_runtime) == before + 300
    with independent_storage(any_runtime) as storage:
        assert stored_uuids(storage, uuids) == set(uuids)
        with storage.read_session() as session:
            values = session.execute(
                sa.select(DbNode.attributes).where(DbNode.uuid.in_(uuids)).order_by(DbNode.id)
            ).scalars()
            assert [attributes["value"] for attributes in values] == list(range(300))


def test_writes_nobody_waited_for_are_committed_when_the_runtime_shuts_down(home: Path) -> None:
    uuids = [new_uuid() for _ in range(50)]
    with Runtime(home) as rt:
        url = rt.storage.url
        for uuid in uuids:
            rt.backend.write_nowait([node_record(uuid=uuid)])
    storage = Storage(url)
    try:
        assert stored_uuids(storage, uuids) == set(uuids)
    finally:
        storage.dispose()


def test_writing_after_the_runtime_shut_down_is_a_storage_error(home: Path) -> None:
    rt = Runtime(home)
    rt.shutdown()
    with pytest.raises(StorageError, match="provenance actor has stopped"):
        rt.backend.write([node_record()])
    with pytest.raises(StorageError, match="provenance actor has stopped"):
        rt.backend.sync()


# Attribute updates.


def test_an_attribute_update_replaces_the_attributes_and_advances_mtime(
    any_runtime: Runtime,
) -> None:
    node = Calculation()
    node.set_process_attributes(process_state="created", process_label="job")
    node.store()
    with any_runtime.storage.read_session() as session:
        first_mtime = session.execute(
            sa.select(DbNode.mtime).where(DbNode.id == node.pk)
        ).scalar_one()

    any_runtime.backend.write([AttributeUpdate(node.uuid, {"process_state": "finished"})])

    with any_runtime.storage.read_session() as session:
        row = session.execute(sa.select(DbNode).where(DbNode.id == node.pk)).scalar_one()
    assert row.attributes == {"process_state": "finished"}
    assert row.mtime >= first_mtime
    assert row.mtime.tzinfo is not None


def test_the_last_of_several_queued_attribute_updates_wins(any_runtime: Runtime) -> None:
    node = Calculation().store()
    for state in ("created", "running", "waiting", "finished"):
        any_runtime.backend.write_nowait(
            [node.set_process_attributes(process_state=state, exit_status=0)]
        )
    any_runtime.backend.sync()
    loaded = load_node(node.pk)
    assert isinstance(loaded, Calculation)
    assert loaded.attributes == {"process_state": "finished", "exit_status": 0}


def test_an_attribute_update_of_a_never_stored_node_raises_not_existent_error(
    runtime: Runtime,
) -> None:
    missing = new_uuid()
    with pytest.raises(NotExistentError, match=missing):
        runtime.backend.write([AttributeUpdate(missing, {"process_state": "finished"})])


# Log records.


def make_record(
    message: str,
    *args: object,
    level: int = logging.INFO,
    logger: str = "workactors.report",
    **extra: object,
) -> logging.LogRecord:
    """A log record as ``logger.log(level, message, *args, extra=extra)`` would make it."""
    record = logging.getLogger(logger).makeRecord(
        logger, level, __file__, 1, message, args, None, extra=extra
    )
    return record


def test_log_records_of_a_process_end_up_in_its_node_logs(any_runtime: Runtime) -> None:
    @workfunction
    def quiet(x: Int) -> Int:
        return x

    _result, node = any_runtime.run_get_node(quiet, Int(1))
    assert isinstance(node, ProcessNode)
    assert node.logs == []
    handler = DbLogHandler(any_runtime.backend)
    first = make_record("step %s of %d", "one", 2, pid=node.pk, workactors_runtime=id(any_runtime))

    handler.handle(first)
    handler.handle(make_record("it broke", level=logging.ERROR, logger="elsewhere", pid=node.pk))
    any_runtime.backend.sync()

    logs = node.logs
    assert [(entry.levelname, entry.loggername, entry.message) for entry in logs] == [
        ("INFO", "workactors.report", "step one of 2"),
        ("ERROR", "elsewhere", "it broke"),
    ]
    assert logs[0].time == dt.datetime.fromtimestamp(first.created, dt.UTC)
    assert logs[0].metadata == {"workactors_runtime": id(any_runtime)}
    assert load_node(node.pk).logs == logs


def test_the_runtime_records_report_log_records_of_its_own_processes_only(
    runtime: Runtime,
) -> None:
    node = Calculation().store()
    report = logging.getLogger(REPORT_LOGGER_NAME)

    report.info("mine", extra={"pid": node.pk, "workactors_runtime": id(runtime)})
    report.info("another runtime's", extra={"pid": node.pk, "workactors_runtime": id(object())})
    report.info("nobody's", extra={"pid": node.pk})
    report.info("no process")
    runtime.backend.sync()

    assert [entry.message for entry in node.logs] == ["mine"]


def test_a_pid_bound_in_the_structlog_context_routes_the_record(runtime: Runtime) -> None:
    node = Calculation().store()
    handler = DbLogHandler(runtime.backend)
    with structlog.contextvars.bound_contextvars(pid=node.pk):
        handler.handle(make_record("from the context"))
    handler.handle(make_record("no pid anywhere"))
    runtime.backend.sync()
    assert [entry.message for entry in node.logs] == ["from the context"]


def test_log_metadata_keeps_plain_extra_values_only(runtime: Runtime) -> None:
    node = Calculation().store()
    handler = DbLogHandler(runtime.backend)
    handler.handle(
        make_record(
            "with extras",
            pid=node.pk,
            step=3,
            ratio=0.5,
            label="x",
            flag=True,
            nothing=None,
            blob=object(),
            items=[1, 2],
        )
    )
    runtime.backend.sync()
    [entry] = node.logs
    assert entry.metadata == {"step": 3, "ratio": 0.5, "label": "x", "flag": True, "nothing": None}


def test_a_log_record_for_an_unknown_pid_is_dropped_without_raising(runtime: Runtime) -> None:
    node = Calculation().store()
    handler = DbLogHandler(runtime.backend)
    with capture_logs() as logs:
        handler.handle(make_record("lost", pid=987654))
        runtime.backend.sync()
    assert [entry["event"] for entry in logs] == ["provenance.write_failed"]
    handler.handle(make_record("kept", pid=node.pk))
    runtime.backend.sync()
    assert [entry.message for entry in node.logs] == ["kept"]


def test_a_log_record_written_with_a_naive_time_is_read_back_as_utc(any_runtime: Runtime) -> None:
    node = Calculation().store()
    naive = dt.datetime(2024, 5, 6, 7, 8, 9, 123456)  # naive on purpose
    any_runtime.backend.write(
        [LogRecord(node.pk, "WARNING", "test", "naive time", naive, {"k": "v"})]
    )
    [entry] = node.logs
    assert entry.time == naive.replace(tzinfo=dt.UTC)
    assert entry.metadata == {"k": "v"}


def test_a_waited_for_write_lands_after_an_older_write_sent_from_another_thread(
    runtime: Runtime,
) -> None:
    """One process's writes come from several threads (its steps run on pooled threads): a
    waited-for end must never be overtaken by the state update queued before it on another
    thread, which would leave a finished process RUNNING."""
    backend = runtime.backend
    nodes = [Calculation().store() for _ in range(150)]
    for node in nodes:
        queued = threading.Event()

        def queue_running(node: Calculation = node, queued: threading.Event = queued) -> None:
            backend.write_nowait([node.set_process_attributes(process_state="running")])
            queued.set()

        other = threading.Thread(target=queue_running)
        other.start()
        assert queued.wait(timeout=10)
        backend.write([node.set_process_attributes(process_state="finished", exit_status=0)])
        other.join(timeout=10)
    backend.sync()
    states = {load_node(node.pk).attributes["process_state"] for node in nodes}
    assert states == {"finished"}


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.InterfaceError("bad parameter or other API misuse"), True),
        (sqlite3.IntegrityError("FOREIGN KEY constraint failed"), False),
        (sa.exc.OperationalError("COMMIT", {}, Exception("server closed")), True),
        (sa.exc.IntegrityError("INSERT", {}, Exception("duplicate key")), False),
    ],
)
def test_a_failure_of_the_database_on_its_driver_or_through_sqlalchemy_is_worth_a_retry(
    error: Exception, unavailable: bool
) -> None:
    """On SQLite the actor writes on the driver: its errors are told apart as SQLAlchemy's
    wrapping of them was."""
    failure = storage_failure("provenance commit failed", error)
    assert isinstance(failure, StorageError)
    assert isinstance(failure, DatabaseUnavailableError) is unavailable


def test_after_its_connection_died_the_actor_writes_again(home: Path, postgres_url: str) -> None:
    """Seen in a PostgreSQL-restart loop: a write on the connection the restart killed
    failed, and every write after it failed too ("Can't reconnect until invalid transaction
    is rolled back"), for minutes, since only a failed commit rolled the connection back."""
    import uuid

    tag = f"wa-test-{uuid.uuid4().hex[:12]}"
    url = with_query(postgres_url, "application_name", tag)
    before, during, after = node_record(1), node_record(2), node_record(3)
    with Runtime(home, database_url=url) as rt:
        rt.backend.write([before])  # the actor now holds its connection
        killer = sa.create_engine(postgres_url)
        try:
            with killer.connect() as connection:
                killed = connection.execute(
                    sa.text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = :tag"
                    ),
                    {"tag": tag},
                ).scalar_one()
        finally:
            killer.dispose()
        assert killed >= 1
        with pytest.raises(DatabaseUnavailableError):
            rt.backend.write([during])
        rt.backend.write([after])
        with independent_storage(rt) as storage:
            stored = stored_uuids(storage, [before.uuid, during.uuid, after.uuid])
    assert stored == {before.uuid, after.uuid}
