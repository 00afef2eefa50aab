"""Alembic migrations of the provenance schema; applied by ``provenance.storage.Storage``."""

#: The newest revision in ``versions/``. Opening a database stamped with it needs no Alembic
#: import (a test checks that it is Alembic's head).
HEAD_REVISION = "0004"
