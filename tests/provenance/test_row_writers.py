"""The SQLite fast path of the provenance actor stores exactly what SQLAlchemy Core stores."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from actors import Runtime
from provenance.core_rows import CoreRows
from provenance.models import DbGroup, DbLink, DbLog, DbNode, group_node
from provenance.records import GroupAddition
from provenance.row_writers import RowWriter, SqliteRows, row_writer
from provenance.sqlite_connections import SQLITE_BUSY_TIMEOUT_MS, SqliteWriteConnection

MOMENT = dt.datetime(2026, 12, 2, 17, 30, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
ATTRIBUTES: dict[str, Any] = {
    "value": [1, 2.5, "é ✓ \\x00", None, True],
    "nested": {"k": {"deep": -(2**63)}},
}


_NODE: dict[str, Any] = {
    "node_type": "data.dict.Dict.",
    "label": "ü",
    "description": "",
    "attributes": ATTRIBUTES,
    "ctime": MOMENT,
    "mtime": MOMENT,
}
_LOG: dict[str, Any] = {
    "time": MOMENT,
    "levelname": "REPORT",
    "loggername": "x",
    "message": "m",
    "metadata": {"a": 1},
}


_READ_NODE = "SELECT ctime, mtime, attributes, label FROM db_node WHERE id = ?"
_READ_LOG = "SELECT time, metadata FROM db_log WHERE node_id = ?"


def _write(writer: RowWriter, connection: Any, uuid: str) -> int:
    """A node linked to itself, with a log record and an attribute update; its pk."""
    (pk,) = writer.insert_nodes(connection, [{**_NODE, "uuid": uuid}]).values()
    writer.insert_links(
        connection, [{"input_id": pk, "output_id": pk, "link_type": "input", "label": "self"}]
    )
    writer.insert_logs(connection, [{**_LOG, "node_id": pk}])
    writer.update_attributes(
        connection, [{"b_id": pk, "b_attributes": {**ATTRIBUTES, "more": 1}, "b_mtime": MOMENT}]
    )
    return pk


def _store(writer: RowWriter, connection: sa.Connection, uuid: str) -> tuple[int, Any, Any]:
    pk = _write(writer, connection, uuid)
    raw = connection.exec_driver_sql(_READ_NODE, (pk,)).one()
    log = connection.exec_driver_sql(_READ_LOG, (pk,)).one()
    return pk, tuple(raw), tuple(log)


def test_both_writers_store_the_same_text_and_read_back_alike(tmp_path: Path) -> None:
    with Runtime(tmp_path / "home") as runtime, runtime.storage.write_engine.connect() as conn:
        core_pk, core_raw, core_log = _store(CoreRows(), conn, "a" * 36)
        fast_pk, fast_raw, fast_log = _store(SqliteRows(), conn, "b" * 36)
        conn.commit()
        assert fast_raw == core_raw
        assert fast_log == core_log
        read = {
            row.id: row
            for row in conn.execute(sa.select(DbNode).where(DbNode.id.in_([core_pk, fast_pk])))
        }
        assert read[fast_pk].ctime == read[core_pk].ctime == MOMENT
        assert read[fast_pk].attributes == read[core_pk].attributes == {**ATTRIBUTES, "more": 1}
        logs = conn.execute(sa.select(DbLog.time, DbLog.meta)).all()
        assert [tuple(row) for row in logs] == [(MOMENT, {"a": 1})] * 2


def test_a_failed_statement_in_a_savepoint_undoes_only_its_own_rows(tmp_path: Path) -> None:
    writer = SqliteRows()
    with Runtime(tmp_path / "home") as runtime, runtime.storage.write_engine.connect() as conn:
        kept, _raw, _log = _store(writer, conn, "c" * 36)
        with pytest.raises(sqlite3.IntegrityError):
            _node_then_dangling_link(writer, conn, kept)
        conn.commit()
        links = conn.exec_driver_sql("SELECT count(*) FROM db_link").scalar_one()
        nodes = conn.exec_driver_sql("SELECT count(*) FROM db_node").scalar_one()
    assert (nodes, links) == (1, 1)


def _node_then_dangling_link(writer: RowWriter, conn: sa.Connection, kept: int) -> None:
    """A new node, then a link to a node that does not exist (the foreign key refuses it)."""
    new = {
        "uuid": "d" * 36,
        "node_type": "data.",
        "label": "",
        "description": "",
        "attributes": {},
        "ctime": MOMENT,
        "mtime": MOMENT,
    }
    with writer.savepoint(conn, "bad"):
        writer.insert_nodes(conn, [new])
        writer.insert_links(
            conn, [{"input_id": kept, "output_id": 999_999, "link_type": "x", "label": ""}]
        )


def test_sqlite_takes_the_fast_path_and_postgresql_keeps_core() -> None:
    assert isinstance(row_writer("sqlite"), SqliteRows)
    assert isinstance(row_writer("postgresql"), CoreRows)


def _columns_written(sql: str) -> list[str]:
    """The columns an ``INSERT INTO t (a, b) ...`` names."""
    match = re.match(r"INSERT INTO (\w+) \(([^)]*)\)", sql)
    assert match is not None, sql
    return [column.strip() for column in match.group(2).split(",")]


@pytest.mark.parametrize(
    ("sql", "table"),
    [
        (SqliteRows._INSERT_NODE, DbNode.__table__),
        (SqliteRows._INSERT_LINK, DbLink.__table__),
        (SqliteRows._INSERT_LOG, DbLog.__table__),
        (SqliteRows._INSERT_GROUP, DbGroup.__table__),
        (SqliteRows._INSERT_GROUP_NODE, group_node),
    ],
)
def test_the_driver_inserts_every_column_of_the_models_but_the_generated_ones(
    sql: str, table: sa.Table
) -> None:
    """The models are the schema's one source: a column added there and not here fails."""
    generated = {
        column.name
        for column in table.columns
        if column.autoincrement is True or column.server_default is not None
    }
    written = _columns_written(sql)
    assert re.match(rf"INSERT INTO {table.name} ", sql)
    assert sorted(written) == sorted(
        column.name for column in table.columns if column.name not in generated
    )


def test_the_actors_connection_on_sqlite_is_the_driver_with_the_storages_settings(
    tmp_path: Path,
) -> None:
    with Runtime(tmp_path / "home") as runtime:
        connection = runtime.storage.write_connection()
        try:
            assert isinstance(connection, SqliteWriteConnection)
            driver = connection.driver
            assert driver.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert driver.execute("PRAGMA busy_timeout").fetchone() == (SQLITE_BUSY_TIMEOUT_MS,)
            assert driver.execute("PRAGMA foreign_keys").fetchone() == (1,)
            assert driver.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
            assert not connection.in_transaction()
            SqliteRows().select_pks(connection, ["x"])
            assert connection.in_transaction()  # a writer's, taken at once
            connection.rollback()
        finally:
            connection.close()


def test_the_driver_writes_through_the_actors_connection_what_core_writes(tmp_path: Path) -> None:
    with Runtime(tmp_path / "home") as runtime:
        connection = runtime.storage.write_connection()
        try:
            fast_pk, fast_raw, fast_log = _store_on_driver(SqliteRows(), connection, "e" * 36)
            connection.commit()
        finally:
            connection.close()
        with runtime.storage.write_engine.connect() as conn:
            core_pk, core_raw, core_log = _store(CoreRows(), conn, "f" * 36)
            conn.commit()
            assert fast_raw == core_raw
            assert fast_log == core_log
            nodes = DbNode.__table__
            read = conn.execute(sa.select(nodes).where(nodes.c.id == fast_pk)).one()
            assert read.ctime == MOMENT
            assert read.attributes == {**ATTRIBUTES, "more": 1}
            assert SqliteRows().select_pks(conn, ["e" * 36, "f" * 36, "g" * 36]) == {
                "e" * 36: fast_pk,
                "f" * 36: core_pk,
            }
            conn.rollback()


def _store_on_driver(
    writer: SqliteRows, connection: SqliteWriteConnection, uuid: str
) -> tuple[int, Any, Any]:
    """``_store`` on the actor's own SQLite connection."""
    pk = _write(writer, connection, uuid)
    raw = connection.driver.execute(_READ_NODE, (pk,)).fetchone()
    log = connection.driver.execute(_READ_LOG, (pk,)).fetchone()
    return pk, tuple(raw), tuple(log)


def test_both_writers_add_to_a_group_alike(tmp_path: Path) -> None:
    """The group is made once, with the models' defaults, and a node is a member once."""
    with Runtime(tmp_path / "home") as runtime, runtime.storage.write_engine.connect() as conn:
        nodes = [_store(CoreRows(), conn, str(index) * 36)[0] for index in range(3)]
        pks = {str(index) * 36: pk for index, pk in enumerate(nodes)}

        def resolve(_connection: Any, uuids: Any) -> dict[str, int]:
            return {uuid: pks[uuid] for uuid in uuids}

        rows = {}
        for writer, label in ((CoreRows(), "core"), (SqliteRows(), "fast")):
            uuids = ("0" * 36, "1" * 36, "0" * 36)
            for members_added in (uuids, ("1" * 36, "2" * 36)):
                add = GroupAddition(label, "", members_added, group_uuid=label * 9)
                writer.add_to_group(conn, add, resolve)
            groups = DbGroup.__table__
            group = conn.execute(sa.select(groups).where(groups.c.label == label)).one()
            members = conn.execute(
                sa.select(group_node.c.node_id)
                .where(group_node.c.group_id == group.id)
                .order_by(group_node.c.node_id)
            ).scalars()
            stored_time = conn.exec_driver_sql(
                "SELECT time FROM db_group WHERE id = ?", (group.id,)
            ).scalar_one()
            rows[label] = (group.description, group.type_string, list(members), len(stored_time))
            assert group.time.tzinfo is dt.UTC
        conn.rollback()
    assert rows["fast"] == rows["core"] == ("", "", nodes, len("2026-12-03 10:00:00.000000"))
