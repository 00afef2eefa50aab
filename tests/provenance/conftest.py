"""Fixtures of the provenance tests: one runtime per database backend."""

from __future__ import annotations

import pytest

from actors import Runtime


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_runtime(request: pytest.FixtureRequest) -> Runtime:
    """A runtime on the embedded SQLite file, then one on the PostgreSQL server."""
    fixture = "runtime" if request.param == "sqlite" else "pg_runtime"
    runtime: Runtime = request.getfixturevalue(fixture)
    return runtime
