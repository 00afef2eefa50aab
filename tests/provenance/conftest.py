"""Fixtures of the provenance tests: one runtime per database backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from actors import Runtime
from provenance.storage import Storage, sqlite_url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_runtime(request: pytest.FixtureRequest) -> Runtime:
    """A runtime on the embedded SQLite file, then one on the PostgreSQL server."""
    fixture = "runtime" if request.param == "sqlite" else "pg_runtime"
    runtime: Runtime = request.getfixturevalue(fixture)
    return runtime


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where a SQLite database may be created."""
    return tmp_path / "provenance.sqlite"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, db_path: Path) -> str:
    """The URL of a new SQLite file, then of a new PostgreSQL schema."""
    if request.param == "sqlite":
        return sqlite_url(db_path)
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def storage(database_url: str) -> Iterator[Storage]:
    """A migrated storage, disposed afterwards."""
    opened = Storage(database_url)
    try:
        yield opened
    finally:
        opened.dispose()
