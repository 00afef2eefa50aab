"""How the provenance actor runs its hot statements: through SQLAlchemy Core, or straight
through the SQLite driver.

A blocking workfunction costs the actor about nine statements (nodes, links, savepoints, the
attribute update at commit). Through SQLAlchemy each costs tens of microseconds of Python before
SQLite sees it, several times what SQLite itself spends, so on the embedded default they go to
the ``sqlite3`` connection directly, in the same format SQLAlchemy writes (timestamps as
``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC, JSON from ``json.dumps``), inside the transaction
SQLAlchemy began (``BEGIN IMMEDIATE``). PostgreSQL keeps SQLAlchemy Core: psycopg adapts JSONB
and time zones itself, and its round trips dwarf the overhead anyway.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from provenance.models import DbGroup, DbLink, DbLog, DbNode, group_node
from provenance.records import GroupAddition

_node_columns = DbNode.__table__.c

#: One row of each table as the actor builds it (column name -> Python value).
Row = Mapping[str, Any]


class RowWriter(Protocol):
    """The statements of the actor's hot path, for one dialect."""

    def insert_nodes(self, connection: Connection, rows: Sequence[Row]) -> dict[str, int]:
        """Insert nodes; return their pks by uuid."""

    def insert_links(self, connection: Connection, rows: Sequence[Row]) -> None:
        """Insert links."""

    def insert_logs(self, connection: Connection, rows: Sequence[Row]) -> None:
        """Insert log records."""

    def update_attributes(self, connection: Connection, rows: Sequence[Row]) -> None:
        """Replace attribute sets: rows of ``b_id``, ``b_attributes``, ``b_mtime``."""

    def savepoint(self, connection: Connection, name: str) -> Any:
        """A context manager that undoes what its block did, and only that, if it raises."""

    def undoable(self, connection: Connection) -> Any:
        """As ``savepoint``, for a block that only inserts through this writer."""


@contextmanager
def core_savepoint(connection: Connection, name: str) -> Iterator[None]:
    """A raw savepoint through SQLAlchemy: its nested-transaction bookkeeping costs more than
    the statements themselves on this hot path."""
    connection.exec_driver_sql(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {name}")
        raise
    finally:
        connection.exec_driver_sql(f"RELEASE SAVEPOINT {name}")


class CoreRows:
    """SQLAlchemy Core statements, built once (a statement memoizes its cache key)."""

    _insert_nodes = sa.insert(DbNode).returning(DbNode.uuid, DbNode.id)
    _insert_links = sa.insert(DbLink)
    _insert_logs = sa.insert(DbLog)
    _update_attributes = (
        sa.update(DbNode)
        .where(_node_columns.id == sa.bindparam("b_id"))
        .values(
            {
                _node_columns.attributes: sa.bindparam(
                    "b_attributes", type_=_node_columns.attributes.type
                ),
                _node_columns.mtime: sa.bindparam("b_mtime", type_=_node_columns.mtime.type),
            }
        )
    )

    def insert_nodes(self, connection: Connection, rows: Sequence[Row]) -> dict[str, int]:
        result = connection.execute(self._insert_nodes, list(rows))
        return {row[0]: row[1] for row in result}

    def insert_links(self, connection: Connection, rows: Sequence[Row]) -> None:
        connection.execute(self._insert_links, list(rows))

    def insert_logs(self, connection: Connection, rows: Sequence[Row]) -> None:
        connection.execute(self._insert_logs, list(rows))

    def update_attributes(self, connection: Connection, rows: Sequence[Row]) -> None:
        connection.execute(self._update_attributes, list(rows))

    def savepoint(self, connection: Connection, name: str) -> Any:
        return core_savepoint(connection, name)

    def undoable(self, connection: Connection) -> Any:
        return core_savepoint(connection, "provenance_write")


def sqlite_time(value: dt.datetime) -> str:
    """A timestamp as SQLAlchemy stores ``UtcDateTime`` in SQLite: UTC, microseconds."""
    if value.tzinfo is dt.UTC:  # every timestamp the engine makes (``models.utcnow``)
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


class _Inserted:
    """The rows one write inserted so far, by table: what undoing it deletes (a plain class:
    one is made per write, and a dataclass's default factories cost more than the lists)."""

    __slots__ = ("links", "logs", "nodes")

    def __init__(self) -> None:
        self.nodes: list[int] = []
        self.links: list[int] = []
        self.logs: list[int] = []


class SqliteRows:
    """The same statements run on the ``sqlite3`` connection under SQLAlchemy's transaction.

    A write is undone, if it fails, by deleting the rows it inserted rather than by a
    savepoint: inside a savepoint SQLite copies every page a statement changes to a statement
    journal first, which doubled the cost of an insert. The actor is the only writer and the
    rows are uncommitted, so deleting them leaves the transaction as it was (SQLite then gives
    their pks to the next rows, as after a rollback to a savepoint).
    """

    def __init__(self) -> None:
        self._inserted: _Inserted | None = None

    _INSERT_NODE = (
        "INSERT INTO db_node "
        "(uuid, node_type, label, description, attributes, ctime, mtime, node_hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
    )
    _INSERT_LINK = "INSERT INTO db_link (input_id, output_id, link_type, label) VALUES (?, ?, ?, ?)"
    _INSERT_LOG = (
        "INSERT INTO db_log (node_id, time, levelname, loggername, message, metadata) "
        "VALUES (?, ?, ?, ?, ?, ?)"
    )
    _UPDATE_ATTRIBUTES = "UPDATE db_node SET attributes = ?, mtime = ? WHERE db_node.id = ?"

    @staticmethod
    def _driver(connection: Connection) -> Any:
        """The ``sqlite3`` connection, in the transaction SQLAlchemy began (BEGIN IMMEDIATE)."""
        if not connection.in_transaction():
            connection.begin()  # the storage's "begin" listener emits BEGIN IMMEDIATE
        return connection.connection.dbapi_connection

    def insert_nodes(self, connection: Connection, rows: Sequence[Row]) -> dict[str, int]:
        driver = self._driver(connection)
        created: dict[str, int] = {}
        times: dict[dt.datetime, str] = {}  # the rows of a write share their times
        for row in rows:
            ctime, mtime = row["ctime"], row["mtime"]
            if ctime not in times:
                times[ctime] = sqlite_time(ctime)
            if mtime not in times:
                times[mtime] = sqlite_time(mtime)
            cursor = driver.execute(
                self._INSERT_NODE,
                (
                    row["uuid"],
                    row["node_type"],
                    row["label"],
                    row["description"],
                    json.dumps(row["attributes"]),
                    times[ctime],
                    times[mtime],
                    row.get("node_hash"),
                ),
            )
            created[row["uuid"]] = pk = cursor.fetchone()[0]
            if self._inserted is not None:
                self._inserted.nodes.append(pk)
        return created

    def insert_links(self, connection: Connection, rows: Sequence[Row]) -> None:
        self._insert(
            connection,
            self._INSERT_LINK,
            [(row["input_id"], row["output_id"], row["link_type"], row["label"]) for row in rows],
            None if self._inserted is None else self._inserted.links,
        )

    def insert_logs(self, connection: Connection, rows: Sequence[Row]) -> None:
        self._insert(
            connection,
            self._INSERT_LOG,
            [
                (
                    row["node_id"],
                    sqlite_time(row["time"]),
                    row["levelname"],
                    row["loggername"],
                    row["message"],
                    json.dumps(row["metadata"]),
                )
                for row in rows
            ],
            None if self._inserted is None else self._inserted.logs,
        )

    def _insert(
        self, connection: Connection, sql: str, rows: list[tuple[Any, ...]], ids: list[int] | None
    ) -> None:
        """Insert ``rows``, noting their pks in ``ids`` (one statement each) if given."""
        driver = self._driver(connection)
        if ids is None:
            driver.executemany(sql, rows)
            return
        for row in rows:
            ids.append(driver.execute(sql, row).lastrowid)

    def update_attributes(self, connection: Connection, rows: Sequence[Row]) -> None:
        self._driver(connection).executemany(
            self._UPDATE_ATTRIBUTES,
            [
                (json.dumps(row["b_attributes"]), sqlite_time(row["b_mtime"]), row["b_id"])
                for row in rows
            ],
        )

    @contextmanager
    def savepoint(self, connection: Connection, name: str) -> Iterator[None]:
        driver = self._driver(connection)
        driver.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            driver.execute(f"ROLLBACK TO SAVEPOINT {name}")
            raise
        finally:
            driver.execute(f"RELEASE SAVEPOINT {name}")

    @contextmanager
    def undoable(self, connection: Connection) -> Iterator[None]:
        """Undo the block's inserts if it raises (see the class docstring)."""
        inserted = self._inserted = _Inserted()
        try:
            yield
        except BaseException:
            self._inserted = None
            driver = self._driver(connection)
            for table, ids in (
                ("db_log", inserted.logs),
                ("db_link", inserted.links),
                ("db_node", inserted.nodes),
            ):
                if ids:
                    marks = ", ".join("?" * len(ids))
                    driver.execute(f"DELETE FROM {table} WHERE id IN ({marks})", ids)
            raise
        finally:
            self._inserted = None


def add_to_group(
    connection: Connection, op: GroupAddition, resolve: Callable[[Connection, Any], dict[str, int]]
) -> None:
    """Create the group of ``op`` if it does not exist and add its nodes (pks found by
    ``resolve``) that are not in it yet; through SQLAlchemy Core on every dialect."""
    group_id = connection.execute(
        sa.select(DbGroup.id).where(
            DbGroup.label == op.label, DbGroup.type_string == op.type_string
        )
    ).scalar_one_or_none()
    if group_id is None:
        group_id = connection.execute(
            sa.insert(DbGroup)
            .values(uuid=op.group_uuid, label=op.label, type_string=op.type_string)
            .returning(DbGroup.id)
        ).scalar_one()
    if not op.node_uuids:
        return
    pks = resolve(connection, op.node_uuids)
    present = set(
        connection.execute(
            sa.select(group_node.c.node_id).where(
                group_node.c.group_id == group_id, group_node.c.node_id.in_(pks.values())
            )
        ).scalars()
    )
    missing = [pk for pk in dict.fromkeys(pks[uuid] for uuid in op.node_uuids) if pk not in present]
    if missing:
        connection.execute(
            sa.insert(group_node), [{"group_id": group_id, "node_id": pk} for pk in missing]
        )


def row_writer(dialect: str) -> RowWriter:
    """The writer for a database of ``dialect`` (``Storage.dialect``)."""
    return SqliteRows() if dialect == "sqlite" else CoreRows()
