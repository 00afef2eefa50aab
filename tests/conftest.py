"""Fixtures for every test: a runtime in a fresh home, a PostgreSQL schema, no leaked actors."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pykka
import pytest

from actors import Runtime
from tests.helpers import POSTGRES_SERVER_URL, Fsyncs, PostgresUnreachableError, postgres_schema

__all__ = ["POSTGRES_SERVER_URL"]


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Point the default runtime at a throwaway home so no test touches ~/.workactors."""
    monkeypatch.setenv("WORKACTORS_HOME", str(tmp_path_factory.mktemp("default-home")))
    monkeypatch.delenv("WORKACTORS_DATABASE_URL", raising=False)


@pytest.fixture(autouse=True)
def _structlog_unconfigured() -> Iterator[None]:
    """Leave structlog as a fresh program finds it. ``capture_logs`` restores its processors
    by configuring them, which marks structlog configured with defaults that print INFO to
    stdout: library events then reached the stdout a later CLI test parses as JSON."""
    yield
    import sys

    structlog = sys.modules.get("structlog")
    if structlog is not None:
        structlog.reset_defaults()


@pytest.fixture(autouse=True)
def _no_actor_left_running() -> Iterator[None]:
    """Every test must leave no actor behind; stop stragglers so the next test starts clean."""
    yield
    from actors.runtimes import shutdown_all

    shutdown_all()
    leftovers = pykka.ActorRegistry.get_all()
    pykka.ActorRegistry.stop_all(block=True, timeout=10)
    assert not leftovers, f"actors left running after the test: {leftovers}"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh workactors home."""
    return tmp_path / "home"


@pytest.fixture
def runtime(home: Path) -> Iterator[Runtime]:
    """A runtime on the embedded default (SQLite) in a fresh home."""
    with Runtime(home) as rt:
        yield rt


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a new, empty schema on the local PostgreSQL server; dropped afterwards."""
    try:
        with postgres_schema() as url:
            yield url
    except PostgresUnreachableError as exc:  # pragma: no cover - depends on the machine
        pytest.fail(str(exc))


@pytest.fixture
def pg_runtime(home: Path, postgres_url: str) -> Iterator[Runtime]:
    """A runtime whose provenance lives in PostgreSQL."""
    with Runtime(home, database_url=postgres_url) as rt:
        yield rt


@pytest.fixture
def shared_database(postgres_url: str) -> str:
    """``postgres_url`` with the schema created (tables of the checkpoints included)."""
    from provenance.storage import Storage

    Storage(postgres_url).dispose()
    return postgres_url


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> Fsyncs:
    """Every ``os.fsync`` the test makes, by file name, in order (the real fsync runs)."""
    watcher = Fsyncs()
    monkeypatch.setattr(os, "fsync", watcher)
    return watcher
