"""``StoreDatabase``: how a ``PostgresStore`` runs its statements, and what it says when it can't.

Each statement runs in its own transaction on a pooled connection (``persistence.pg_connection``),
retried while the server is unreachable, and a failure that outlasts the retries is raised as a
``CheckpointWriteError`` that says to check the server: the engine handles one error for every
store, whatever keeps the checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool

from persistence.errors import CheckpointWriteError
from persistence.pg_connection import open_pool, retrying

T = TypeVar("T")


class StoreDatabase:
    """A pool of connections to ``url`` named ``name`` (in ``pg_stat_activity``)."""

    def __init__(self, url: str, *, name: str) -> None:
        self._pool: ConnectionPool = open_pool(url, name=name)

    def connection(self) -> Any:
        """A pooled connection (a context manager that commits on success)."""
        return self._pool.connection()

    def execute(self, what: str, sql: str, params: Mapping[str, Any]) -> int:
        """Run one statement in its own transaction; the number of rows it changed."""

        def run() -> int:
            with self._pool.connection() as connection:
                return connection.execute(sql, params).rowcount

        return self.run(what, run)

    def fetch(self, what: str, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run one statement in its own transaction; the rows it returned."""

        def run() -> list[tuple[Any, ...]]:
            with self._pool.connection() as connection:
                return list(connection.execute(sql, params).fetchall())

        return self.run(what, run)

    def run(self, what: str, call: Callable[[], T]) -> T:
        """``call()``, retried while the server is unreachable (``what`` names it in logs).

        Raises:
            CheckpointWriteError: if the database could not be reached, or refused it.
        """
        try:
            return retrying(what, call)
        except psycopg.Error as exc:
            raise CheckpointWriteError(
                f"cannot {what} checkpoints in the database: {exc}; check that the PostgreSQL "
                "server is running and reachable"
            ) from exc

    def close(self) -> None:
        """Close every connection."""
        self._pool.close()
