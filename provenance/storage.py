"""The database behind the provenance graph: engines, schema by migration, sessions.

SQLite (the embedded default) runs in WAL mode with a busy timeout so that readers never block
the single writer and several daemon workers can share one file. Writes begin ``IMMEDIATE`` so
that two writers queue on the busy timeout instead of failing on a lock upgrade.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from provenance.errors import StorageError

log = structlog.get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
OWN_TABLES = frozenset({"db_node", "db_link", "db_log", "db_group", "db_group_node"})


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of the SQLite file at ``path``."""
    return f"sqlite+pysqlite:///{path}"


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this version of workactors knows."""
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise StorageError("no schema migrations are installed with workactors")
    return head


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

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


#: The PostgreSQL advisory lock held while the schema is created or upgraded ("wkactors").
MIGRATION_LOCK_KEY = 0x776B6163746F7273


class Storage:
    """One provenance database: a write engine for the provenance actor, a read engine for all.

    Creating a ``Storage`` brings the schema to the newest revision by migration; a database of
    another application, or of a newer workactors, is refused with ``StorageError`` and left as
    it was.

    Args:
        url: SQLAlchemy URL, ``sqlite+pysqlite:///path`` or ``postgresql+psycopg://...``.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = sa.make_url(url).get_backend_name()
        self.write_engine = self._create_engine(immediate=True)
        self.read_engine = (
            self._create_engine(immediate=False) if self.dialect == "sqlite" else self.write_engine
        )
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
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
        return sa.create_engine(self.url, pool_pre_ping=True, pool_size=10, max_overflow=20)

    @property
    def location(self) -> str:
        """Where the database is, for messages (no password)."""
        return sa.make_url(self.url).render_as_string(hide_password=True)

    def _ensure_schema(self) -> None:
        head = head_revision()
        try:
            with self.write_engine.connect() as connection:
                tables = set(sa.inspect(connection).get_table_names())
                current = MigrationContext.configure(connection).get_current_revision()
                if current == head:
                    return
                if current is None and tables - {"alembic_version"}:
                    raise StorageError(
                        f"the database at {self.location} holds tables of another application "
                        f"({', '.join(sorted(tables)[:5])}) and no workactors schema version; "
                        "point WORKACTORS_HOME or database_url at a new location, or move the "
                        "file away"
                    )
                known = {
                    rev.revision for rev in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()
                }
                if current is not None and current not in known:
                    raise StorageError(
                        f"the database at {self.location} has schema revision {current!r}, which "
                        "this version of workactors does not know (written by a newer version?); "
                        "upgrade workactors or use another database"
                    )
                connection.rollback()
                with connection.begin():
                    if connection.dialect.name == "postgresql":
                        # Two programs opening a new database at once would both create the
                        # schema; the second waits here and then finds it done.
                        connection.exec_driver_sql(
                            f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
                        )
                    current = MigrationContext.configure(connection).get_current_revision()
                    if current != head:
                        log.info(
                            "provenance.migrate",
                            location=self.location,
                            source=current,
                            target=head,
                        )
                        command.upgrade(_alembic_config(connection), "head")
        except DatabaseError as exc:
            if isinstance(exc, OperationalError) and "locked" in str(exc):
                raise StorageError(
                    f"the database at {self.location} stayed locked by another writer for "
                    f"{SQLITE_BUSY_TIMEOUT_MS / 1000:.0f} s; stop the other program and retry"
                ) from exc
            raise StorageError(
                f"cannot use the database at {self.location}: {exc.orig}. If it is a corrupt or "
                "foreign file, move it away (workactors creates a new one) or restore a backup"
            ) from exc

    def current_revision(self) -> str | None:
        """The schema revision recorded in the database."""
        with self.read_engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for queries; it never writes."""
        with self._read_sessions() as session:
            yield session

    def write_session(self) -> Session:
        """A new session on the write engine; only the provenance actor should hold one."""
        return self._write_sessions()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()
