"""Which failures are the database's, not the data's: the server restarting, a connection it
broke, a deadlock. Worth the same work again once it is back.

The provenance actor's writes already say so (``DatabaseUnavailableError``); a read does not,
since SQLAlchemy and psycopg raise their own errors there, and a step that reads (a child's
outputs, say) while a shared server restarts would otherwise end its process EXCEPTED instead
of being replayed from its checkpoint. Imported on the shared-database path only, where
SQLAlchemy is loaded anyway.
"""

from __future__ import annotations

import sys

import sqlalchemy as sa

from provenance.errors import DatabaseUnavailableError, FencedError, StorageError
from provenance.record_checks import describe_error

#: What SQLAlchemy raises when the connection, not the statement, failed (and on a connection
#: that a restart invalidated).
_TRANSIENT: tuple[type[BaseException], ...] = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.DisconnectionError,
    sa.exc.PendingRollbackError,
)

#: How far down ``__cause__``/``__context__`` to look for the database's failure.
_CHAIN_DEPTH = 8


def is_transient(exc: BaseException) -> bool:
    """``exc`` itself says the database or the connection to it failed."""
    if isinstance(exc, (DatabaseUnavailableError, *_TRANSIENT)):
        return True
    if getattr(exc, "connection_invalidated", False):
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
