"""Alembic migrations of the provenance schema; applied by ``provenance.storage.Storage``.

What a program needs to know of the schema before it imports SQLAlchemy or Alembic lives here:
the head revision and the tables that are ours.
"""

from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent

#: The newest revision in ``versions/``. Opening a database stamped with it needs no Alembic
#: import (a test checks that it is Alembic's head).
HEAD_REVISION = "0005"

#: The tables the migrations create (``alembic_version`` aside).
OWN_TABLES = frozenset(
    {
        "db_node",
        "db_link",
        "db_log",
        "db_group",
        "db_group_node",
        "wa_checkpoint",
        "wa_intent",
        "wa_worker",
        "wa_runtime",
    }
)
#: The PostgreSQL advisory lock held while the schema is created or upgraded ("wkactors").
MIGRATION_LOCK_KEY = 0x776B6163746F7273


def head_revision() -> str:
    """The newest schema revision among the installed migrations (imports Alembic)."""
    from alembic.script import ScriptDirectory

    from provenance.errors import StorageError

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise StorageError("no schema migrations are installed with workactors")
    return head
