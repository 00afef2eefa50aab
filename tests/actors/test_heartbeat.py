"""A runtime's heartbeat: its row in ``wa_runtime`` is there from its open, renewed while it is
open and gone once it shut down, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from actors import Runtime
from actors.errors import ActorError
from actors.heartbeat import DEFAULT_INTERVAL, INTERVAL_ENV, STALE_BEATS, choose_interval
from actors.holders import HOLDER
from provenance.runtime_rows import runtime_rows
from provenance.storage import Storage
from tests.actors.daemon.helpers import wait_for

RENEWAL_TIMEOUT = 30.0
INTERVAL = 0.05


def _heartbeat_of(storage: Storage, runtime_id: str) -> object:
    with storage.read_session() as session:
        query = sa.text("SELECT heartbeat FROM wa_runtime WHERE id = :id")
        return session.execute(query, {"id": runtime_id}).scalar()


def test_a_runtime_row_is_renewed_while_it_is_open_and_deleted_at_shutdown(
    home: Path, home_database_url: str
) -> None:
    with Runtime(home, database_url=home_database_url, heartbeat_interval=INTERVAL) as runtime:
        runtime.backend.sync()  # the row is sent ahead of everything: committed by now
        row = runtime_rows(runtime.storage)[runtime.runtime_id]
        first = _heartbeat_of(runtime.storage, runtime.runtime_id)

        assert row.alive is True
        assert (row.host, row.os_pid, row.home) == (
            runtime.holder["host"],
            runtime.holder["pid"],
            str(home),
        )
        wait_for(
            lambda: _heartbeat_of(runtime.storage, runtime.runtime_id) != first,
            RENEWAL_TIMEOUT,
            "a renewal of the heartbeat",
        )

    storage = Storage(home_database_url)
    try:
        assert runtime.runtime_id not in runtime_rows(storage)
    finally:
        storage.dispose()


def test_the_processes_a_runtime_runs_name_its_row(runtime: Runtime) -> None:
    from actors.test_utils import DummyProcess

    _result, node = runtime.run_get_node(DummyProcess)

    assert node.attributes[HOLDER]["runtime"] == runtime.runtime_id
    assert runtime.runtime_id in runtime_rows(runtime.storage)


def test_the_interval_is_the_parameter_else_the_environment_else_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(INTERVAL_ENV, raising=False)
    assert choose_interval() == DEFAULT_INTERVAL
    monkeypatch.setenv(INTERVAL_ENV, "2.5")
    assert choose_interval() == 2.5
    assert choose_interval(0.25) == 0.25
    assert STALE_BEATS >= 2  # a missed beat is not a death


@pytest.mark.parametrize("bad", ["0", "-1", "soon", "inf", "nan"])
def test_an_interval_that_is_not_a_positive_number_is_refused_before_anything_opens(
    home: Path, monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv(INTERVAL_ENV, bad)

    with pytest.raises(ActorError, match=INTERVAL_ENV):
        Runtime(home)
    assert not (home / "provenance.sqlite").exists()


@pytest.mark.postgres
def test_on_postgresql_a_busy_provenance_actor_does_not_hold_renewals_back(
    home: Path, postgres_url: str
) -> None:
    with Runtime(home, database_url=postgres_url, heartbeat_interval=INTERVAL) as runtime:
        runtime.backend.sync()
        first = _heartbeat_of(runtime.storage, runtime.runtime_id)
        actor = runtime.backend._watermark.actor
        assert actor is not None
        with actor._lock:  # held as a long write holds it: the actor serves nothing meanwhile
            wait_for(
                lambda: _heartbeat_of(runtime.storage, runtime.runtime_id) != first,
                RENEWAL_TIMEOUT,
                "a renewal while the provenance actor is busy",
            )
