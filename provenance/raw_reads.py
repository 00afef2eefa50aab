"""One hot SELECT on SQLite without SQLAlchemy's per-call machinery.

A cache lookup runs once per launch of a cacheable process, and through a SQLAlchemy
``Connection`` it cost about 260 us here, of which SQLite's own work was a tenth: checking out a
pooled connection, beginning and rolling back a transaction, building the execution context.
That made a cache hit dearer than running the process again. ``SqliteSelect`` compiles the
statement once, binds its parameters with SQLAlchemy's own bind processors, runs it on a plain
``sqlite3`` connection per thread in autocommit mode (each SELECT is its own snapshot, so it
sees every commit before it), and turns the rows back with SQLAlchemy's result processors:
the rows are what the same statement would give through SQLAlchemy.
"""

from __future__ import annotations

import collections
import sqlite3
import threading
from collections.abc import Callable, Mapping
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from provenance.storage import SQLITE_BUSY_TIMEOUT_MS

_DIALECT = sqlite.dialect()


def _row_type(fields: list[str]) -> Callable[..., Any]:
    """A named tuple class with ``fields``: rows read like SQLAlchemy's, by attribute."""
    return collections.namedtuple("Row", fields)


class SqliteSelect:
    """``statement`` (a Core select with named ``bindparam``s), ready to run on the SQLite
    database at ``path`` from any thread; ``close`` closes the connections it opened."""

    def __init__(self, statement: sa.Select[Any], path: str) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        self._sql = str(compiled)
        self._order = tuple(compiled.positiontup or ())
        self._fixed = dict(compiled.params)
        binders = cast(Mapping[Any, Any], compiled._bind_processors)
        self._binders: dict[str, Callable[[Any], Any]] = {
            name: binders[name] for name in self._order if name in binders
        }
        columns = list(statement.selected_columns)
        # Fields named by the statement's own labels, as SQLAlchemy's rows are.
        self._row: Callable[..., Any] = _row_type([column.name for column in columns])
        self._processors = [
            column.type._cached_result_processor(_DIALECT, None) for column in columns
        ]
        self._path = path
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def all(self, params: Mapping[str, Any]) -> list[Any]:
        """The rows of the statement with ``params`` bound by name."""
        values = {**self._fixed, **params}
        bound = []
        for name in self._order:
            value = values[name]
            binder = self._binders.get(name)
            bound.append(binder(value) if binder is not None else value)
        rows = self._connection().execute(self._sql, bound).fetchall()
        processors = self._processors
        make = self._row
        return [
            make(
                *(
                    processor(value) if processor is not None else value
                    for processor, value in zip(processors, row, strict=True)
                )
            )
            for row in rows
        ]

    def close(self) -> None:
        """Close every connection opened for this statement."""
        with self._lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            # Autocommit: no transaction outlives a SELECT, so none holds back the WAL.
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            self._local.connection = connection
            with self._lock:
                self._opened.append(connection)
        return connection
