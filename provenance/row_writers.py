"""How the provenance actor runs its hot statements: straight through the SQLite driver, or
through SQLAlchemy Core.

A blocking workfunction costs the actor about nine statements (nodes, links, savepoints, the
attribute update at commit). Through SQLAlchemy each costs tens of microseconds of Python before
SQLite sees it, several times what SQLite itself spends, so on the embedded default they go to
the ``sqlite3`` connection directly, in the same format SQLAlchemy writes (timestamps as
``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC, JSON from ``json.dumps``), inside the transaction
the actor's connection began (``BEGIN IMMEDIATE``): the ``sqlite3`` connection of
``provenance.sqlite_connections`` (a SQLAlchemy connection of a SQLite engine works too). A
program on SQLite thus writes its provenance without importing SQLAlchemy. PostgreSQL keeps
SQLAlchemy Core (``provenance.core_rows``, imported for it alone): psycopg adapts JSONB and
time zones itself, and its round trips dwarf the overhead anyway.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Protocol

from provenance.records import GroupAddition
from provenance.sqlite_connections import sqlite_driver
from provenance.timestamps import utcnow

#: One row of each table as the actor builds it (column name -> Python value).
Row = Mapping[str, Any]
#: Finds the pks of nodes by uuid (``WriteApplier``'s, which remembers them).
Resolve = Callable[[Any, Iterable[str]], dict[str, int]]


class RowWriter(Protocol):
    """The statements of the actor's hot path, for one dialect, on the actor's connection
    (``Storage.write_connection``)."""

    def insert_nodes(self, connection: Any, rows: Sequence[Row]) -> dict[str, int]:
        """Insert nodes; return their pks by uuid."""

    def insert_links(self, connection: Any, rows: Sequence[Row]) -> None:
        """Insert links."""

    def insert_logs(self, connection: Any, rows: Sequence[Row]) -> None:
        """Insert log records."""

    def update_attributes(self, connection: Any, rows: Sequence[Row]) -> None:
        """Replace attribute sets: rows of ``b_id``, ``b_attributes``, ``b_mtime``."""

    def select_pks(self, connection: Any, uuids: Iterable[str]) -> dict[str, int]:
        """The pks of the stored nodes among ``uuids``, by uuid."""

    def add_to_group(self, connection: Any, op: GroupAddition, resolve: Resolve) -> None:
        """Create the group of ``op`` if it does not exist and add its nodes (pks found by
        ``resolve``) that are not in it yet."""

    def savepoint(self, connection: Any, name: str) -> Any:
        """A context manager that undoes what its block did, and only that, if it raises."""

    def undoable(self, connection: Any) -> Any:
        """As ``savepoint``, for a block that only inserts through this writer."""

    def statement_guard(self, connection: Any, name: str) -> AbstractContextManager[None]:
        """What keeps one failed statement from spoiling the transaction (an update that
        ``provenance.pending_updates`` may run again alone)."""


def sqlite_time(value: dt.datetime) -> str:
    """A timestamp as SQLAlchemy stores ``UtcDateTime`` in SQLite: UTC, microseconds."""
    if value.tzinfo is dt.UTC:  # every timestamp the engine makes (``timestamps.utcnow``)
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
    """The statements run on the ``sqlite3`` connection, in the transaction of the actor's.

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

    _INSERT_GROUP = (
        "INSERT INTO db_group (uuid, label, type_string, description, time) "
        "VALUES (?, ?, ?, ?, ?) RETURNING id"
    )
    _INSERT_GROUP_NODE = "INSERT INTO db_group_node (group_id, node_id) VALUES (?, ?)"

    @staticmethod
    def _driver(connection: Any) -> Any:
        """The ``sqlite3`` connection, in the write transaction (BEGIN IMMEDIATE)."""
        if not connection.in_transaction():
            # A SQLAlchemy connection's "begin" listener (``provenance.storage``) emits it too.
            connection.begin()
        return sqlite_driver(connection)

    def insert_nodes(self, connection: Any, rows: Sequence[Row]) -> dict[str, int]:
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

    def insert_links(self, connection: Any, rows: Sequence[Row]) -> None:
        self._insert(
            connection,
            self._INSERT_LINK,
            [(row["input_id"], row["output_id"], row["link_type"], row["label"]) for row in rows],
            None if self._inserted is None else self._inserted.links,
        )

    def insert_logs(self, connection: Any, rows: Sequence[Row]) -> None:
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
        self, connection: Any, sql: str, rows: list[tuple[Any, ...]], ids: list[int] | None
    ) -> None:
        """Insert ``rows``, noting their pks in ``ids`` (one statement each) if given."""
        driver = self._driver(connection)
        if ids is None:
            driver.executemany(sql, rows)
            return
        for row in rows:
            ids.append(driver.execute(sql, row).lastrowid)

    def update_attributes(self, connection: Any, rows: Sequence[Row]) -> None:
        self._driver(connection).executemany(
            self._UPDATE_ATTRIBUTES,
            [
                (json.dumps(row["b_attributes"]), sqlite_time(row["b_mtime"]), row["b_id"])
                for row in rows
            ],
        )

    def select_pks(self, connection: Any, uuids: Iterable[str]) -> dict[str, int]:
        wanted = list(uuids)
        marks = ", ".join("?" * len(wanted))
        query = f"SELECT uuid, id FROM db_node WHERE uuid IN ({marks})"
        return dict(self._driver(connection).execute(query, wanted).fetchall())

    def add_to_group(self, connection: Any, op: GroupAddition, resolve: Resolve) -> None:
        driver = self._driver(connection)
        found = driver.execute(
            "SELECT id FROM db_group WHERE label = ? AND type_string = ?",
            (op.label, op.type_string),
        ).fetchone()
        if found is None:
            # With the models' defaults of the columns an addition leaves out (``DbGroup``).
            row = (op.group_uuid, op.label, op.type_string, "", sqlite_time(utcnow()))
            found = driver.execute(self._INSERT_GROUP, row).fetchone()
        group_id = found[0]
        if not op.node_uuids:
            return
        pks = resolve(connection, op.node_uuids)
        marks = ", ".join("?" * len(pks))
        query = f"SELECT node_id FROM db_group_node WHERE group_id = ? AND node_id IN ({marks})"
        present = {row[0] for row in driver.execute(query, (group_id, *pks.values()))}
        wanted = dict.fromkeys(pks[uuid] for uuid in op.node_uuids)
        missing = [(group_id, pk) for pk in wanted if pk not in present]
        if missing:
            driver.executemany(self._INSERT_GROUP_NODE, missing)

    def statement_guard(self, connection: Any, name: str) -> AbstractContextManager[None]:
        """None: SQLite rolls back only the failed statement, and an update replaces a whole
        attribute set, so running it again in the fallback is harmless; the two statements a
        savepoint costs are saved on every commit."""
        return nullcontext()

    @contextmanager
    def savepoint(self, connection: Any, name: str) -> Iterator[None]:
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
    def undoable(self, connection: Any) -> Iterator[None]:
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


def row_writer(dialect: str) -> RowWriter:
    """The writer for a database of ``dialect`` (``Storage.dialect``); SQLAlchemy Core's
    (``provenance.core_rows``) is imported for a database other than SQLite only."""
    if dialect == "sqlite":
        return SqliteRows()
    from provenance.core_rows import CoreRows

    return CoreRows()
