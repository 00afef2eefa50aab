"""Connections of the shared-database mode: libpq settings from a database URL, a pool that
survives a server restart, and retries of statements cut off by one.

The provenance database's URL is a SQLAlchemy URL (``postgresql+psycopg://...``, with options
such as ``?options=-csearch_path%3Dschema``); psycopg wants a libpq one. Every machine derives
the same notification channel from the URL, so that machines on one database (and one schema)
hear each other and no one else.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import TypeVar

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg_pool import ConnectionPool
from sqlalchemy.engine import make_url

from provenance.database_urls import normalize_url
from provenance.log import get_logger

log = get_logger(__name__)

T = TypeVar("T")

#: How long a statement is retried while the server is unreachable (a restart takes seconds).
RECONNECT_TIMEOUT = 60.0
#: The first and the longest pause between two attempts to reach the server again.
RETRY_FIRST_PAUSE = 0.05
RETRY_MAX_PAUSE = 1.0


def is_postgresql(url: str | None) -> bool:
    """True if ``url`` names a PostgreSQL database (any of the spellings workactors takes)."""
    if not url:
        return False
    try:
        return normalize_url(url).get_backend_name() == "postgresql"
    except Exception:  # not a URL at all: Storage says what is wrong with it
        return False


def conninfo_of(url: str) -> str:
    """The libpq connection string of the SQLAlchemy URL ``url`` (its query options kept).

    Built as ``key=value`` pairs, not by rendering the URL again: SQLAlchemy writes a space as
    ``+``, which libpq reads as a plus, so ``options=-csearch_path=s -clock_timeout=500`` set
    the search path to ``s+-clock_timeout=500`` and the store found no table.
    """
    parsed = normalize_url(url)
    params: dict[str, str | int | None] = {
        "host": parsed.host,
        "port": parsed.port,
        "dbname": parsed.database,
        "user": parsed.username,
        "password": parsed.password,
    }
    for name, value in parsed.query.items():
        params[name] = value if isinstance(value, str) else value[-1]
    return make_conninfo("", **{name: value for name, value in params.items() if value is not None})


def channel_of(url: str) -> str:
    """The ``LISTEN``/``NOTIFY`` channel of the database and schema ``url`` names."""
    parsed = make_url(normalize_url(url).set(drivername="postgresql").render_as_string())
    place = f"{parsed.host}:{parsed.port}/{parsed.database}?{sorted(parsed.query.items())}"
    return "workactors_" + hashlib.sha256(place.encode()).hexdigest()[:16]


def open_pool(url: str, *, max_size: int = 4, name: str = "workactors") -> ConnectionPool:
    """A pool of connections to ``url`` that checks each one before lending it, so that the
    connections a server restart broke are replaced instead of failing the next statement."""
    return ConnectionPool(
        conninfo_of(url),
        min_size=1,
        max_size=max_size,
        open=True,
        name=name,
        check=ConnectionPool.check_connection,
        reconnect_timeout=RECONNECT_TIMEOUT,
        num_workers=1,
    )


def retrying(what: str, call: Callable[[], T], *, timeout: float = RECONNECT_TIMEOUT) -> T:
    """``call()``, tried again while the server cannot be reached, for up to ``timeout`` s.

    Only connection failures are retried (``psycopg.OperationalError``); every statement this
    package runs is safe to run twice (claims and fenced writes name the epoch they expect).

    Raises:
        psycopg.OperationalError: if the server stayed unreachable for ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    pause = RETRY_FIRST_PAUSE
    while True:
        try:
            return call()
        except psycopg.OperationalError as exc:
            if time.monotonic() + pause > deadline:
                raise
            log.warning("persistence.database_unreachable", what=what, error=str(exc)[:200])
            time.sleep(pause)  # waiting for the server to come back: nothing to wait on
            pause = min(RETRY_MAX_PAUSE, pause * 2)
