"""Plain-text formatting shared by the views: ages, times, values and state colours.

Kept apart from the rich layout so that the rules (what counts as "ok", how old is "2h") are
stated once and are easy to test.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from rich.text import Text

from actors.cli.queries import NodeSummary
from provenance import ProcessState

STATE_STYLES: dict[ProcessState, str] = {
    ProcessState.CREATED: "dim",
    ProcessState.RUNNING: "yellow",
    ProcessState.WAITING: "yellow",
    ProcessState.FINISHED: "green",
    ProcessState.EXCEPTED: "red",
    ProcessState.KILLED: "magenta",
}
#: A process paused from outside: it runs no step until played.
PAUSED_STYLE = "cyan"
#: FINISHED with a non-zero exit status: the process ran to its end but reports a failure.
FAILED_STYLE = "dark_orange"
LEVEL_STYLES: dict[str, str] = {
    "DEBUG": "dim",
    "WARNING": "yellow",
    "ERROR": "red",
    "CRITICAL": "bold red",
}
VALUE_PREVIEW_CHARS = 60
MISSING = "-"

_UNITS = (("d", 86_400), ("h", 3_600), ("m", 60))


def humanise_age(moment: dt.datetime, now: dt.datetime) -> str:
    """How long before ``now`` ``moment`` was, in the largest whole unit: ``"3s ago"``.

    A moment in the future (clocks of two machines disagree) reads ``"0s ago"`` rather than a
    confusing negative age.
    """
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in _UNITS:
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def format_time(moment: dt.datetime) -> str:
    """A stored UTC time in the local zone, to the second, as people read logs."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def iso_time(moment: dt.datetime) -> str:
    """A time for machines: ISO 8601 in UTC with its offset."""
    return moment.astimezone(dt.UTC).isoformat()


def state_style(node: NodeSummary) -> str:
    """The colour of a process's state; FINISHED is green only if it finished ok."""
    state = node.state
    if state is None:
        return "dim"
    if state is ProcessState.FINISHED and node.exit_status not in (None, 0):
        return FAILED_STYLE
    return STATE_STYLES[state]


def state_label(node: NodeSummary) -> str:
    """The state name of a process, with ``(paused)`` while it is paused and ``(cached)`` if
    it reused the results of an earlier run."""
    state = node.state
    if state is None:
        return MISSING
    if node.cached_from is not None:
        return f"{state.value} (cached)"
    return f"{state.value} (paused)" if node.paused and not state.is_terminal else state.value


def state_text(node: NodeSummary) -> Text:
    """The state name of a process, coloured; a paused one says so."""
    style = PAUSED_STYLE if node.paused and node.state and not node.state.is_terminal else None
    return Text(state_label(node), style=style or state_style(node))


def format_elapsed(seconds: float) -> str:
    """A duration in its two largest units: ``"0.4s"``, ``"12s"``, ``"3m05s"``, ``"2h07m"``."""
    if seconds < 10:
        return f"{max(0.0, seconds):.1f}s"
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3_600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 86_400:
        return f"{whole // 3_600}h{whole % 3_600 // 60:02d}m"
    return f"{whole // 86_400}d{whole % 86_400 // 3_600:02d}h"


def exit_status_text(node: NodeSummary) -> Text:
    """The exit status, red when it signals a failure."""
    status = node.exit_status
    if status is None:
        return Text(MISSING, style="dim")
    return Text(str(status), style="red" if status else "")


def value_preview(value: Any, limit: int = VALUE_PREVIEW_CHARS) -> str:
    """A one-line JSON rendering of a data value, cut to ``limit`` characters for tables."""
    if value is None:
        return ""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def process_name(node: NodeSummary) -> str:
    """``Label<pk>``, how a process is named in one line."""
    return f"{node.process_label or node.node_type}<{node.pk}>"
