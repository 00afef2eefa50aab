"""Migration 0002: the indices queries need exist on new and upgraded databases, and are used."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from provenance import ProcessNode, QueryBuilder
from provenance.migrations import HEAD_REVISION
from provenance.storage import MIGRATIONS_DIR, Storage, sqlite_url

QUERY_INDICES = {
    "ix_db_node_attr_process_state",
    "ix_db_node_attr_process_class",
    "ix_db_group_node_node_id",
}


def _indices(storage: Storage) -> set[str]:
    """Index names as the database lists them (reflection skips SQLite's expression indices)."""
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'index'"
        if storage.dialect == "sqlite"
        else "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    )
    with storage.read_engine.connect() as connection:
        return set(connection.exec_driver_sql(query).scalars())


def test_a_new_database_has_the_query_indices(storage: Storage) -> None:
    assert _indices(storage) >= QUERY_INDICES


def test_a_database_of_revision_0001_is_upgraded_with_the_indices(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            config.attributes["connection"] = connection
            command.upgrade(config, "0001")
    finally:
        engine.dispose()
    storage = Storage(database_url)
    try:
        assert storage.current_revision() == HEAD_REVISION
        assert _indices(storage) >= QUERY_INDICES
    finally:
        storage.dispose()


def test_a_state_filter_uses_its_index_on_sqlite(tmp_path: Path) -> None:
    storage = Storage(sqlite_url(tmp_path / "db.sqlite"))
    try:
        qb = QueryBuilder(storage=storage).append(
            ProcessNode, filters={"attributes.process_state": "finished"}, project="id"
        )
        with storage.read_engine.connect() as connection:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {qb.as_sql(inline=True)}").all()
        assert any("ix_db_node_attr_process_state" in str(row) for row in plan), plan
    finally:
        storage.dispose()
