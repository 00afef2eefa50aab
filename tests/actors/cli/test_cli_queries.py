"""The read models behind the verbs: one query per listing, and the age and colour rules."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event

from actors.cli.format import humanise_age, state_style
from actors.cli.listing import list_processes
from actors.cli.queries import NodeSummary
from provenance import ProcessState, Storage
from provenance.storage import sqlite_url

if TYPE_CHECKING:
    from tests.actors.cli.conftest import PopulatedHome

NOW = dt.datetime(2024, 5, 1, 12, 0, 0, tzinfo=dt.UTC)


def test_process_list_reads_every_process_in_one_query(populated_home: PopulatedHome) -> None:
    storage = Storage(sqlite_url(populated_home.path / "provenance.sqlite"))
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(storage.read_engine, "before_cursor_execute", count)
    try:
        page = list_processes(storage, limit=None)
        states = [process.state for process in page.processes]
    finally:
        storage.dispose()

    # The SQLite engine's own BEGIN is transaction control, not a query.
    assert [s for s in statements if s != "BEGIN"] == [statements[-1]]
    assert statements[-1].lstrip().startswith("SELECT")
    assert page.total == len(page.processes) >= 6
    assert ProcessState.EXCEPTED in states


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0s ago"),
        (3, "3s ago"),
        (59, "59s ago"),
        (60, "1m ago"),
        (3599, "59m ago"),
        (2 * 3600 + 5, "2h ago"),
        (86_399, "23h ago"),
        (3 * 86_400, "3d ago"),
        (-30, "0s ago"),
    ],
)
def test_an_age_is_told_in_its_largest_whole_unit(seconds: int, expected: str) -> None:
    assert humanise_age(NOW - dt.timedelta(seconds=seconds), NOW) == expected


def _process(state: ProcessState, exit_status: int | None) -> NodeSummary:
    return NodeSummary(
        pk=1,
        uuid="u",
        node_type="process.calculation",
        label="",
        attributes={"process_state": state.value, "exit_status": exit_status},
        ctime=NOW,
        mtime=NOW,
    )


@pytest.mark.parametrize(
    ("state", "exit_status", "style"),
    [
        (ProcessState.FINISHED, 0, "green"),
        (ProcessState.FINISHED, 3, "dark_orange"),
        (ProcessState.EXCEPTED, None, "red"),
        (ProcessState.KILLED, None, "magenta"),
        (ProcessState.RUNNING, None, "yellow"),
        (ProcessState.WAITING, None, "yellow"),
        (ProcessState.CREATED, None, "dim"),
    ],
)
def test_a_state_is_green_only_when_the_process_finished_ok(
    state: ProcessState, exit_status: int | None, style: str
) -> None:
    assert state_style(_process(state, exit_status)) == style
