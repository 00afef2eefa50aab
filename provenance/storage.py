"""The database behind the provenance graph: engines, schema by migration, sessions.

SQLite (the embedded default) runs in WAL mode with a busy timeout so that readers never block
the single writer and several daemon workers can share one file. Writes begin ``IMMEDIATE`` so
that two writers queue on the busy timeout instead of failing on a lock upgrade.

Opening a SQLite file stamped with the newest schema revision, what nearly every program does,
takes the ``sqlite3`` driver alone: the revision is read on the connection that then becomes
the provenance actor's (``provenance.sqlite_connections``). SQLAlchemy's engines and sessions are
made, and SQLAlchemy imported, on their first use: a query, a PostgreSQL database, a new or
older schema.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance import sqlite_connections
from provenance.database_urls import normalize_url, normalized_sqlite_url, sqlite_file, sqlite_url
from provenance.errors import StorageError
from provenance.log import get_logger
from provenance.migrations import (
    HEAD_REVISION,
    MIGRATION_LOCK_KEY,
    MIGRATIONS_DIR,
    OWN_TABLES,
    head_revision,
)
from provenance.sqlite_connections import (
    SQLITE_BUSY_TIMEOUT_MS,
    SQLITE_LOWER,
    SqliteWriteConnection,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.exc import DatabaseError
    from sqlalchemy.orm import Session, sessionmaker

    #: The provenance actor's connection: on the driver for a SQLite file, else SQLAlchemy's.
    WriteConnection = SqliteWriteConnection | Connection

log = get_logger(__name__)

#: Database files hold everything a user's processes saw: only their owner may read them.
SQLITE_FILE_MODE = 0o600


def _install_sqlite_pragmas(engine: Engine, *, immediate: bool) -> None:
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        sqlite_connections.configure(dbapi_connection)

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # On the driver itself: through SQLAlchemy's execution path this statement cost more
        # than the transaction it opens (the provenance actor opens one per commit).
        connection.connection.dbapi_connection.execute(begin)  # type: ignore[union-attr]


#: The URL of the database a read session on this thread (or task) is reading.
_being_read: ContextVar[str | None] = ContextVar("workactors_being_read", default=None)


def url_being_read() -> str | None:
    """The URL of the database being read here now (inside ``Storage.read_session``)."""
    return _being_read.get()


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
        plain_sqlite = normalized_sqlite_url(url)
        if plain_sqlite is not None:  # SQLAlchemy is imported on first use only
            self.url = plain_sqlite
            self.dialect = "sqlite"
        else:
            parsed = normalize_url(url)
            self.url = parsed.render_as_string(hide_password=False)
            self.dialect = parsed.get_backend_name()
        #: Called by ``dispose``: readers that keep connections of their own close them.
        self.on_dispose: list[Callable[[], None]] = []
        self._engines_lock = threading.Lock()
        self._write_engine: Engine | None = None
        self._read_engine: Engine | None = None
        self._read_sessions: sessionmaker[Session] | None = None
        self._write_sessions: sessionmaker[Session] | None = None
        #: The connection that checked the schema at open, kept for the provenance actor.
        self._spare_write_connection: sqlite3.Connection | None = None
        if self.dialect == "sqlite":
            _prepare_sqlite_file(self.sqlite_path)
        try:
            if not self._sqlite_schema_is_current():
                self._ensure_schema()
        except BaseException:
            self.dispose()
            raise

    @property
    def write_engine(self) -> Engine:
        """The engine of writes (``BEGIN IMMEDIATE`` on SQLite), made on first use."""
        with self._engines_lock:
            if self._write_engine is None:
                self._write_engine = self._create_engine(immediate=True)
            return self._write_engine

    @property
    def read_engine(self) -> Engine:
        """The engine of reads (the write engine but on SQLite), made on first use."""
        if self.dialect != "sqlite":
            return self.write_engine
        with self._engines_lock:
            if self._read_engine is None:
                self._read_engine = self._create_engine(immediate=False)
            return self._read_engine

    def _create_engine(self, *, immediate: bool) -> Engine:
        import sqlalchemy as sa

        if self.dialect == "sqlite":
            engine = sa.create_engine(self.url, connect_args={"check_same_thread": False})
            _install_sqlite_pragmas(engine, immediate=immediate)
            return engine
        from provenance.jsonb import jsonb_dumps

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
        if normalized_sqlite_url(self.url) is not None:
            return self.url  # a file's URL has no password
        import sqlalchemy as sa

        return sa.make_url(self.url).render_as_string(hide_password=True)

    def _sqlite_schema_is_current(self) -> bool:
        """True if the database is a SQLite file stamped with the head revision, read on the
        driver alone; its connection is then kept for the provenance actor. False for anything
        else, an error included: ``_ensure_schema`` decides, and says what is wrong."""
        path = sqlite_file(self.url)
        if path is None:
            return False
        connection: sqlite3.Connection | None = None
        try:
            connection = sqlite_connections.connect(path)
            current = sqlite_connections.stored_revision(connection) == HEAD_REVISION
        except sqlite3.Error:
            current = False
        if current:
            self._spare_write_connection = connection
        elif connection is not None:
            connection.close()
        return current

    def _ensure_schema(self) -> None:
        from sqlalchemy.exc import DatabaseError

        from provenance.schema import ensure_schema

        try:
            with self.write_engine.connect() as connection:
                ensure_schema(connection, self.location)
        except DatabaseError as exc:
            raise self._unusable(exc) from exc

    def _unusable(self, exc: DatabaseError) -> StorageError:
        """The error that says why the database cannot be used, and what to do."""
        import sqlalchemy as sa
        from sqlalchemy.exc import OperationalError

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
        from provenance.schema import stored_revision

        with self.read_engine.connect() as connection:
            return stored_revision(connection)

    def _sessions(self, *, write: bool) -> sessionmaker[Session]:
        from sqlalchemy.orm import sessionmaker

        engine = self.write_engine if write else self.read_engine
        with self._engines_lock:
            if write:
                if self._write_sessions is None:
                    self._write_sessions = sessionmaker(engine, expire_on_commit=False)
                return self._write_sessions
            if self._read_sessions is None:
                self._read_sessions = sessionmaker(engine, expire_on_commit=False)
            return self._read_sessions

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for queries; it never writes. Nodes loaded in it remember this database
        (``url_being_read``), so that their later reads come back here."""
        token = _being_read.set(self.url)
        try:
            with self._sessions(write=False)() as session:
                yield session
        finally:
            _being_read.reset(token)

    def write_session(self) -> Session:
        """A new session on the write engine; only the provenance actor should hold one."""
        return self._sessions(write=True)()

    def write_connection(self) -> WriteConnection:
        """A new connection for the provenance actor: on the ``sqlite3`` driver for a SQLite
        file (``provenance.sqlite_connections``), else one of the write engine."""
        path = sqlite_file(self.url)
        if path is None:
            return self.write_engine.connect()
        with self._engines_lock:
            driver, self._spare_write_connection = self._spare_write_connection, None
        return SqliteWriteConnection(driver or sqlite_connections.connect(path))

    @property
    def sqlite_path(self) -> str | None:
        """The file of a SQLite database, None for any other (or an in-memory one)."""
        if self.dialect != "sqlite":
            return None
        path = sqlite_file(self.url)
        if path is not None:
            return path
        import sqlalchemy as sa

        path = sa.make_url(self.url).database
        if not path or path == ":memory:" or path.startswith("file:"):
            return None
        return path

    def dispose(self) -> None:
        """Close every pooled connection."""
        for close in self.on_dispose:
            close()
        self.on_dispose.clear()
        with self._engines_lock:
            engines = (self._write_engine, self._read_engine)
            spare, self._spare_write_connection = self._spare_write_connection, None
        for engine in engines:
            if engine is not None:
                engine.dispose()
        if spare is not None:
            spare.close()


def _prepare_sqlite_file(database: str | None) -> None:
    """Create the database file readable by its owner only (SQLite gives its -wal and -shm
    files the same mode), and warn if the folder lets other users in."""
    if database is None:
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
    "SQLITE_FILE_MODE",
    "SQLITE_LOWER",
    "Storage",
    "head_revision",
    "sqlite_url",
    "url_being_read",
]
