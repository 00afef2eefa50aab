"""The database behind the provenance graph: engines, schema by migration, sessions.

SQLite (the embedded default) runs in WAL mode with a busy timeout so that readers never block
the single writer and several daemon workers can share one file. Writes begin ``IMMEDIATE`` so
that two writers queue on the busy timeout instead of failing on a lock upgrade.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from provenance.database_urls import normalize_url, sqlite_url
from provenance.errors import StorageError
from provenance.jsonb import jsonb_dumps
from provenance.log import get_logger
from provenance.schema import (
    MIGRATION_LOCK_KEY,
    MIGRATIONS_DIR,
    OWN_TABLES,
    ensure_schema,
    head_revision,
    stored_revision,
)

log = get_logger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Database files hold everything a user's processes saw: only their owner may read them.
SQLITE_FILE_MODE = 0o600


#: A Unicode ``lower`` for SQLite, whose own folds ASCII letters only.
SQLITE_LOWER = "workactors_lower"


def _install_sqlite_pragmas(engine: Engine, *, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        # Switching to WAL rewrites the file header: only do it to a new file or one of ours,
        # so that a foreign database is refused (by ``_ensure_schema``) as it was.
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            query = "SELECT name FROM sqlite_master WHERE type = 'table'"
            if {row[0] for row in cursor.execute(query)} <= OWN_TABLES | {"alembic_version"}:
                cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()
        # ``ilike`` folds case beyond ASCII, as PostgreSQL's does (``query_fields.text_like``).
        dbapi_connection.create_function(
            SQLITE_LOWER,
            1,
            lambda text: text.lower() if isinstance(text, str) else text,
            deterministic=True,
        )

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # On the driver itself: through SQLAlchemy's execution path this statement cost more
        # than the transaction it opens (the provenance actor opens one per commit).
        connection.connection.dbapi_connection.execute(begin)  # type: ignore[union-attr]


class Storage:
    """One provenance database: a write engine for the provenance actor, a read engine for all.

    Creating a ``Storage`` brings the schema to the newest revision; a database of another
    application, or of a newer workactors, is refused with ``StorageError`` and left as it was.
    A new SQLite file is created readable by its owner only.

    Args:
        url: ``sqlite:///PATH`` or ``postgresql://USER@HOST/DATABASE`` (``postgres://`` and
            ``postgresql+psycopg://`` too); see ``provenance.database_urls``.

    Raises:
        StorageError: for an unsupported URL, or a database that cannot be used (with what to
            do about it).
    """

    def __init__(self, url: str) -> None:
        parsed = normalize_url(url)
        self.url = parsed.render_as_string(hide_password=False)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            _prepare_sqlite_file(parsed)
        self.write_engine = self._create_engine(immediate=True)
        self.read_engine = (
            self._create_engine(immediate=False) if self.dialect == "sqlite" else self.write_engine
        )
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
        #: Called by ``dispose``: readers that keep connections of their own close them.
        self.on_dispose: list[Callable[[], None]] = []
        self._write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)
        try:
            self._ensure_schema()
        except BaseException:
            self.dispose()
            raise

    def _create_engine(self, *, immediate: bool) -> Engine:
        if self.dialect == "sqlite":
            engine = sa.create_engine(self.url, connect_args={"check_same_thread": False})
            _install_sqlite_pragmas(engine, immediate=immediate)
            return engine
        return sa.create_engine(
            self.url,
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=20,
            json_serializer=jsonb_dumps,  # floats stay floats in jsonb (``provenance.jsonb``)
        )

    @property
    def location(self) -> str:
        """Where the database is, for messages (no password)."""
        return sa.make_url(self.url).render_as_string(hide_password=True)

    def _ensure_schema(self) -> None:
        try:
            with self.write_engine.connect() as connection:
                ensure_schema(connection, self.location)
        except DatabaseError as exc:
            raise self._unusable(exc) from exc

    def _unusable(self, exc: DatabaseError) -> StorageError:
        """The error that says why the database cannot be used, and what to do."""
        if isinstance(exc, OperationalError) and "locked" in str(exc.orig):
            return StorageError(
                f"the database at {self.location} stayed locked by another writer for "
                f"{SQLITE_BUSY_TIMEOUT_MS / 1000:.0f} s; stop the other program and retry"
            )
        if self.dialect == "postgresql":
            database = sa.make_url(self.url).database or ""
            if f'database "{database}" does not exist' in str(exc.orig):
                return StorageError(
                    f"the PostgreSQL database {database!r} does not exist on the server of "
                    f"{self.location}; create it (`createdb {database}`, or CREATE DATABASE "
                    f"in psql) or check the database name in the URL"
                )
            reason = " ".join(str(exc.orig).split())
            return StorageError(
                f"cannot use the database at {self.location} (PostgreSQL): {reason}. Check the "
                "URL (user, password, host, port, database) and that the server is running "
                "and accepts this user"
            )
        return StorageError(
            f"cannot use the database at {self.location}: {exc.orig}. If it is a corrupt or "
            "foreign file, move it away (workactors creates a new one) or restore a backup"
        )

    def current_revision(self) -> str | None:
        """The schema revision recorded in the database."""
        with self.read_engine.connect() as connection:
            return stored_revision(connection)

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for queries; it never writes."""
        with self._read_sessions() as session:
            yield session

    def write_session(self) -> Session:
        """A new session on the write engine; only the provenance actor should hold one."""
        return self._write_sessions()

    @property
    def sqlite_path(self) -> str | None:
        """The file of a SQLite database, None for any other (or an in-memory one)."""
        path = sa.make_url(self.url).database if self.dialect == "sqlite" else None
        if not path or path == ":memory:" or path.startswith("file:"):
            return None
        return path

    def dispose(self) -> None:
        """Close every pooled connection."""
        for close in self.on_dispose:
            close()
        self.on_dispose.clear()
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()


def _prepare_sqlite_file(url: URL) -> None:
    """Create the database file readable by its owner only (SQLite gives its -wal and -shm
    files the same mode), and warn if the folder lets other users in."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    try:
        descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, SQLITE_FILE_MODE)
    except FileExistsError:
        pass
    except OSError:
        return  # a missing folder: SQLite says so, in the error of the first connection
    else:
        os.close(descriptor)
        os.chmod(path, SQLITE_FILE_MODE)  # whatever the umask
    folder = path.resolve().parent
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & 0o077:
        log.warning(
            "provenance.home_open_to_others",
            folder=str(folder),
            mode=oct(mode),
            advice=f"the provenance database and checkpoints in it can be read by other users; "
            f"run `chmod 700 {folder}`",
        )


__all__ = [
    "MIGRATIONS_DIR",
    "MIGRATION_LOCK_KEY",
    "OWN_TABLES",
    "SQLITE_BUSY_TIMEOUT_MS",
    "Storage",
    "head_revision",
    "sqlite_url",
]
