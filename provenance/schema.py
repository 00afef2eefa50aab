"""Bringing a provenance database to the schema this version of workactors writes.

Opening a database that is already current is the common case, and it costs one query: the
stamped revision is read with plain SQL and compared with ``HEAD_REVISION``; Alembic is not even
imported. A new, empty database gets the tables of the models and the head stamp in one
transaction, again without Alembic (a test checks that the models are what the migrations
build). Only an older schema is upgraded through Alembic's migrations.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from provenance.errors import StorageError
from provenance.log import get_logger
from provenance.migrations import HEAD_REVISION, MIGRATION_LOCK_KEY, MIGRATIONS_DIR
from provenance.models import Base

log = get_logger(__name__)

# Alembic's own version table, as ``alembic stamp`` creates it.
_version_table = sa.Table(
    "alembic_version",
    sa.MetaData(),
    sa.Column("version_num", sa.String(32), nullable=False),
    sa.PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def stored_revision(connection: Connection, tables: set[str] | None = None) -> str | None:
    """The revision the database is stamped with, None if it has no stamp."""
    if tables is None:
        tables = set(sa.inspect(connection).get_table_names())
    if "alembic_version" not in tables:
        return None
    return connection.execute(sa.select(_version_table.c.version_num)).scalars().first()


def ensure_schema(connection: Connection, location: str) -> None:
    """Create or upgrade the schema on ``connection`` (outside a transaction) to the head.

    Raises:
        StorageError: for a database of another application or of a newer workactors.
    """
    tables = set(sa.inspect(connection).get_table_names())
    current = stored_revision(connection, tables)
    if current == HEAD_REVISION:
        return
    _refuse_foreign(current, tables, location)
    connection.rollback()
    with connection.begin():
        if connection.dialect.name == "postgresql":
            # Two programs opening a new database at once would both create the schema; the
            # second waits here and then finds it done.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        tables = set(sa.inspect(connection).get_table_names())
        current = stored_revision(connection, tables)
        if current == HEAD_REVISION:
            return
        _refuse_foreign(current, tables, location)
        log.info("provenance.migrate", location=location, source=current, target=HEAD_REVISION)
        if current is None:
            create_schema(connection)
        else:
            upgrade_schema(connection)


def _refuse_foreign(current: str | None, tables: set[str], location: str) -> None:
    if current is None and tables - {"alembic_version"}:
        raise StorageError(
            f"the database at {location} holds tables of another application "
            f"({', '.join(sorted(tables)[:5])}) and no workactors schema version; point "
            "WORKACTORS_HOME or database_url at a new location, or move the file away"
        )
    if current is not None and current not in known_revisions():
        raise StorageError(
            f"the database at {location} has schema revision {current!r}, which this version "
            "of workactors does not know (written by a newer version?); upgrade workactors or "
            "use another database"
        )


def known_revisions() -> set[str]:
    """Every revision among the installed migrations (imports Alembic)."""
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}


def create_schema(connection: Connection) -> None:
    """Create the tables of the models in an empty database and stamp it with the head."""
    Base.metadata.create_all(connection)
    _version_table.create(connection, checkfirst=True)
    connection.execute(sa.delete(_version_table))
    connection.execute(sa.insert(_version_table).values(version_num=HEAD_REVISION))


def upgrade_schema(connection: Connection) -> None:
    """Run Alembic's migrations from the stamped revision (or none) to the head."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
