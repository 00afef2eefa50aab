"""The databases workloads run on: SQLite files in the temporary homes, or a PostgreSQL server.

On PostgreSQL every workload gets a database object of its own, created before and dropped
after it: workactors a fresh schema (its tables live in one schema), DBOS a fresh database
(it creates its own ``dbos`` schema). The server is ``--postgres-url`` (default: the local
trust-auth server the tests use).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
DATABASES = (SQLITE, POSTGRESQL)
SHORT = {SQLITE: "sqlite", POSTGRESQL: "pg"}
"""How labels name each database (``workfunction_add@pg``)."""

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
_server = {"url": os.environ.get("WORKACTORS_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL)}


def configure_postgres(url: str | None) -> None:
    """Use ``url`` (``--postgres-url``) as the server; a ``postgresql://`` libpq URL."""
    if url:
        _server["url"] = url


def postgres_url() -> str:
    """The server's libpq URL (``postgresql://user@host:port/database``)."""
    return _server["url"]


def _plain(url: str) -> str:
    """``url`` with any SQLAlchemy driver suffix removed, as psycopg and DBOS take it."""
    scheme, _, rest = url.partition("://")
    return f"{scheme.split('+')[0]}://{rest}"


def _connect(url: str | None = None) -> Any:
    import psycopg

    return psycopg.connect(_plain(url or postgres_url()), autocommit=True, connect_timeout=3)


def postgres_unavailable() -> str | None:
    """Why the server cannot be used (None if it can): PostgreSQL workloads are then skipped."""
    try:
        with _connect() as connection:
            connection.execute("SELECT 1")
    except Exception as exc:  # any failure to connect means: skip, with the reason
        return f"PostgreSQL at {postgres_url()} unreachable: {type(exc).__name__}: {exc}"
    return None


def server_settings() -> dict[str, str]:
    """The server's durability settings (fsync, synchronous_commit, ...), for the report."""
    names = ("server_version", "fsync", "synchronous_commit", "full_page_writes", "wal_sync_method")
    with _connect() as connection:
        return {name: str(connection.execute(f"SHOW {name}").fetchone()[0]) for name in names}


@contextmanager
def fresh_schema(server_url: str | None = None) -> Iterator[str]:
    """A SQLAlchemy URL (psycopg 3) on a new schema of the server's database; dropped after."""
    url = _plain(server_url or postgres_url())
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with _connect(url) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in url else "?"
    try:
        yield url.replace("postgresql://", "postgresql+psycopg://", 1) + (
            f"{separator}options=-csearch_path%3D{schema}"
        )
    finally:
        with _connect(url) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def fresh_database(server_url: str | None = None) -> Iterator[str]:
    """A libpq URL of a new database on the server; dropped (connections forced off) after."""
    url = _plain(server_url or postgres_url())
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with _connect(url) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base, _, query = url.partition("?")
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    finally:
        with _connect(url) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
