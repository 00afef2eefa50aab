"""Connections to a SQLite provenance database through the ``sqlite3`` driver alone.

Every connection workactors opens on SQLite is set up here, whether SQLAlchemy's pool opens it
(``provenance.storage`` installs ``configure`` as its connect hook) or the engine opens it
itself: the provenance actor's write connection and the check of the schema revision at open
(``SqliteWriteConnection``, ``stored_revision``). With those two on the driver, a program
that opens a runtime on an existing database and runs processes does not import SQLAlchemy,
about half of its cold start.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from typing import Any

from provenance.migrations import OWN_TABLES

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: A Unicode ``lower`` for SQLite, whose own folds ASCII letters only.
SQLITE_LOWER = "workactors_lower"


def _lower(text: str | bytes | int | float | None) -> str | bytes | int | float | None:
    return text.lower() if isinstance(text, str) else text


def configure(connection: sqlite3.Connection) -> None:
    """Set up a new connection: explicit transactions, the busy timeout, WAL mode (on a new
    file or one of ours only), foreign keys, and the Unicode ``lower`` queries use."""
    # Transactions begin when workactors says so (``BEGIN IMMEDIATE`` for a writer).
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    # Switching to WAL rewrites the file header: only do it to a new file or one of ours,
    # so that a foreign database is refused (by ``provenance.schema``) as it was.
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        query = "SELECT name FROM sqlite_master WHERE type = 'table'"
        if {row[0] for row in cursor.execute(query)} <= OWN_TABLES | {"alembic_version"}:
            cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()
    # ``ilike`` folds case beyond ASCII, as PostgreSQL's does (``query_fields.text_like``).
    connection.create_function(SQLITE_LOWER, 1, _lower, deterministic=True)


def connect(path: str) -> sqlite3.Connection:
    """A configured connection to the database file at ``path``, usable from any thread (as
    SQLAlchemy's pool opens it: the path made absolute)."""
    connection = sqlite3.connect(os.path.abspath(path), check_same_thread=False)
    configure(connection)
    return connection


def read_rows(path: str, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
    """The rows of one SELECT on the database file at ``path``, on a connection of its own
    (in autocommit: the SELECT is its own snapshot), for a read a program makes once."""
    connection = sqlite3.connect(os.path.abspath(path), isolation_level=None)
    try:
        connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        return connection.execute(sql, parameters).fetchall()
    finally:
        connection.close()


def stored_revision(connection: sqlite3.Connection) -> str | None:
    """The schema revision the database is stamped with, None if it has none (as
    ``provenance.schema.stored_revision`` reads it)."""
    query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    if connection.execute(query).fetchone() is None:
        return None
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return None if row is None else str(row[0])


class SqliteWriteConnection:
    """The provenance actor's connection to a SQLite database, on the driver alone.

    It begins a transaction (``BEGIN IMMEDIATE``, so that two writers queue on the busy
    timeout instead of failing on a lock upgrade) when a statement first needs one, and
    commits or rolls it back when told, as a SQLAlchemy connection of the storage's write engine
    does.
    """

    dialect_name = "sqlite"

    def __init__(self, driver: sqlite3.Connection) -> None:
        #: The ``sqlite3`` connection the row writers run their statements on.
        self.driver = driver

    def in_transaction(self) -> bool:
        """True while a transaction is open."""
        return self.driver.in_transaction

    def begin(self) -> None:
        """Open the write transaction."""
        self.driver.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Commit the open transaction, if any."""
        if self.driver.in_transaction:
            self.driver.execute("COMMIT")

    def rollback(self) -> None:
        """Roll back the open transaction, if any."""
        if self.driver.in_transaction:
            self.driver.execute("ROLLBACK")

    def close(self) -> None:
        """Roll back what is uncommitted and close the connection."""
        try:
            self.rollback()
        finally:
            self.driver.close()


def sqlite_driver(connection: Any) -> sqlite3.Connection:
    """The ``sqlite3`` connection under ``connection``: a ``SqliteWriteConnection``, or a
    SQLAlchemy connection of a SQLite engine."""
    if isinstance(connection, SqliteWriteConnection):
        return connection.driver
    driver: sqlite3.Connection = connection.connection.dbapi_connection
    return driver


__all__ = [
    "SQLITE_BUSY_TIMEOUT_MS",
    "SQLITE_LOWER",
    "SqliteWriteConnection",
    "configure",
    "connect",
    "read_rows",
    "sqlite_driver",
    "stored_revision",
]
