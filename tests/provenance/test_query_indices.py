"""Migration 0002: the indices queries need exist on new and upgraded databases, and are used."""

from __future__ import annotations

from pathlib import Path

from provenance import ProcessNode, QueryBuilder
from provenance.migrations import HEAD_REVISION
from provenance.storage import Storage, sqlite_url
from tests.helpers import migrate_to

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
    migrate_to(database_url, "0001")
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
