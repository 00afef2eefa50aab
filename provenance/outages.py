"""Which failures are the database's, not the data's: the server restarting, a connection it
broke, a deadlock. Worth the same work again once it is back.

The provenance actor's writes already say so (``DatabaseUnavailableError``); a read does not,
since SQLAlchemy and psycopg raise their own errors there, and a step that reads (a child's
outputs, say) while a shared server restarts would otherwise end its process EXCEPTED instead
of being replayed from its checkpoint.

SQLAlchemy is not imported here: an error of it can only be met once a program imported it,
and a program on SQLite writes on the ``sqlite3`` driver without it (whose ``OperationalError``
and ``InterfaceError`` SQLAlchemy would have wrapped in its own of the same names).
"""

from __future__ import annotations

import sqlite3
import sys

from provenance.errors import DatabaseUnavailableError, FencedError, StorageError
from provenance.record_checks import describe_error

#: What SQLAlchemy raises when the connection, not the statement, failed (and on a connection
#: that a restart invalidated), by name in ``sqlalchemy.exc``.
_TRANSIENT_SQLALCHEMY = (
    "OperationalError",
    "InterfaceError",
    "DisconnectionError",
    "PendingRollbackError",
)
#: The same failures raised by the ``sqlite3`` driver itself.
_TRANSIENT_SQLITE = (sqlite3.OperationalError, sqlite3.InterfaceError)

#: How far down ``__cause__``/``__context__`` to look for the database's failure.
_CHAIN_DEPTH = 8


def is_transient(exc: BaseException) -> bool:
    """``exc`` itself says the database or the connection to it failed."""
    if isinstance(exc, (DatabaseUnavailableError, *_TRANSIENT_SQLITE)):
        return True
    if getattr(exc, "connection_invalidated", False):
        return True
    errors = sys.modules.get("sqlalchemy.exc")
    if errors is not None and isinstance(
        exc, tuple(getattr(errors, name) for name in _TRANSIENT_SQLALCHEMY)
    ):
        return True
    psycopg = sys.modules.get("psycopg")  # raised raw by the checkpoint store's own pool
    return psycopg is not None and isinstance(exc, psycopg.OperationalError)


def outage_of(exc: BaseException) -> DatabaseUnavailableError | FencedError | None:
    """The database failure behind ``exc`` (itself, or what it was raised from or while
    handling), as this package's error; None if the database did not fail it.

    A fence refusal counts: the claim, not the data, was the problem.
    """
    seen: BaseException | None = exc
    for _ in range(_CHAIN_DEPTH):
        if seen is None:
            return None
        if isinstance(seen, DatabaseUnavailableError | FencedError):
            return seen
        if is_transient(seen):
            unavailable = DatabaseUnavailableError(f"the database failed: {describe_error(seen)}")
            unavailable.__cause__ = seen
            return unavailable
        seen = seen.__cause__ or seen.__context__
    return None


def storage_failure(what: str, exc: Exception) -> StorageError:
    """The error to give a writer: ``DatabaseUnavailableError`` when the database, not the
    data, failed (worth the same write again once it is back)."""
    kind = DatabaseUnavailableError if is_transient(exc) else StorageError
    return kind(f"{what}: {describe_error(exc)}")
