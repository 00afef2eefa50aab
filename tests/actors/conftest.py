"""Fixtures of the engine tests: lifecycle events to wait on, gates that always open, and the
database of a home on each backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors import Runtime
from provenance.storage import sqlite_url
from tests.actors.events import Events
from tests.actors.workchains import gate


@pytest.fixture
def events(runtime: Runtime) -> Iterator[Events]:
    listener = Events()
    runtime.add_listener(listener)
    yield listener
    runtime.remove_listener(listener)


@pytest.fixture
def gate_name() -> Iterator[str]:
    name = f"gate-{uuid.uuid4().hex[:8]}"
    yield name
    gate(name).set()  # never leave a child blocked


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def home_database_url(request: pytest.FixtureRequest, home: Path) -> str:
    """The URL of the home's own SQLite file, then of a new PostgreSQL schema (one that the
    runtimes of several machines would share)."""
    if request.param == "sqlite":
        return sqlite_url(home / "provenance.sqlite")
    url: str = request.getfixturevalue("postgres_url")
    return url
