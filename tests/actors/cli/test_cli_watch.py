"""The pieces of the live views: durations, paused states, the refresh loop."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
from rich.console import Console
from rich.text import Text

from actors.cli.format import format_elapsed, state_label
from actors.cli.queries import NodeSummary
from actors.cli.watch import elapsed, watch

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def _node(state: str, *, paused: bool = False, age: float = 5.0, ran: float = 2.0) -> NodeSummary:
    attributes: dict[str, object] = {"process_state": state, "process_label": "P"}
    if paused:
        attributes["paused"] = True
    created = NOW - dt.timedelta(seconds=age)
    return NodeSummary(
        pk=1,
        uuid="u",
        node_type="process.workcalculation",
        label="",
        attributes=attributes,
        ctime=created,
        mtime=created + dt.timedelta(seconds=ran),
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.04, "0.0s"),
        (3.25, "3.2s"),
        (42, "42s"),
        (185, "3m05s"),
        (7_620, "2h07m"),
        (90_000, "1d01h"),
    ],
)
def test_durations_read_in_their_two_largest_units(seconds: float, text: str) -> None:
    assert format_elapsed(seconds) == text


def test_a_paused_process_says_so_until_it_ends() -> None:
    assert state_label(_node("waiting", paused=True)) == "waiting (paused)"
    assert state_label(_node("running")) == "running"
    assert state_label(_node("killed", paused=True)) == "killed"


def test_a_running_process_has_run_until_now_and_an_ended_one_until_its_end() -> None:
    assert elapsed(_node("running", age=5.0), NOW) == 5.0
    assert elapsed(_node("finished", age=5.0, ran=2.0), NOW) == 2.0


def test_the_live_view_refreshes_until_its_render_says_it_is_over() -> None:
    calls: list[int] = []

    def render() -> tuple[Text, bool]:
        calls.append(len(calls))
        return Text(f"refresh {len(calls)}"), len(calls) >= 3

    console = Console(file=io.StringIO(), force_terminal=False)
    watch(console, render, interval=0.01)
    assert len(calls) == 3


def test_the_live_view_ends_when_asked_to_stop() -> None:
    stop = threading.Event()

    def render() -> tuple[Text, bool]:
        stop.set()
        return Text("never over"), False

    console = Console(file=io.StringIO(), force_terminal=False)
    watch(console, render, interval=60, stop=stop)
