"""Alembic migrations of the provenance schema; applied by ``provenance.storage.Storage``."""
