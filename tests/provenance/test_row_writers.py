"""The SQLite fast path of the provenance actor stores exactly what SQLAlchemy Core stores."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from actors import Runtime
from provenance.models import DbLog, DbNode
from provenance.core_rows import CoreRows
from provenance.row_writers import RowWriter, SqliteRows, row_writer

MOMENT = dt.datetime(2026, 12, 2, 17, 30, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
ATTRIBUTES: dict[str, Any] = {
    "value": [1, 2.5, "é ✓ \\x00", None, True],
    "nested": {"k": {"deep": -(2**63)}},
}


def _store(writer: RowWriter, connection: sa.Connection, uuid: str) -> tuple[int, Any, Any]:
    (pk,) = writer.insert_nodes(
        connection,
        [
            {
                "uuid": uuid,
                "node_type": "data.dict.Dict.",
                "label": "ü",
                "description": "",
                "attributes": ATTRIBUTES,
                "ctime": MOMENT,
                "mtime": MOMENT,
            }
        ],
    ).values()
    writer.insert_links(
        connection, [{"input_id": pk, "output_id": pk, "link_type": "input", "label": "self"}]
    )
    writer.insert_logs(
        connection,
        [
            {
                "node_id": pk,
                "time": MOMENT,
                "levelname": "REPORT",
                "loggername": "x",
                "message": "m",
                "metadata": {"a": 1},
            }
        ],
    )
    writer.update_attributes(
        connection, [{"b_id": pk, "b_attributes": {**ATTRIBUTES, "more": 1}, "b_mtime": MOMENT}]
    )
    raw = connection.exec_driver_sql(
        "SELECT ctime, mtime, attributes, label FROM db_node WHERE id = ?", (pk,)
    ).one()
    log = connection.exec_driver_sql(
        "SELECT time, metadata FROM db_log WHERE node_id = ?", (pk,)
    ).one()
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
