"""The Jinja environment of the pages: autoescaped templates from the package, and the few
formatting helpers they call (the CLI's rules, rendered as HTML classes instead of colours)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import jinja2
from starlette.templating import Jinja2Templates

from actors.cli.format import humanise_age, process_name, state_label, value_preview
from actors.cli.queries import NodeSummary
from provenance import ProcessState


def state_class(node: NodeSummary) -> str:
    """The CSS class of a process's state: what the CLI shows as a colour."""
    state = node.state
    if state is None:
        return "state-none"
    if node.paused and not state.is_terminal:
        return "state-paused"
    if state is ProcessState.FINISHED and node.exit_status not in (None, 0):
        return "state-failed"
    return f"state-{state.value}"


def utc_time(moment: dt.datetime) -> str:
    """A stored time as people read it on a server: UTC, to the second."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def epoch_time(seconds: float) -> str:
    """Seconds since the epoch (a worker's heartbeat) as ``utc_time`` shows a time."""
    return utc_time(dt.datetime.fromtimestamp(seconds, dt.UTC))


def utc_millis(moment: dt.datetime) -> str:
    """A time to the millisecond, for report lines that happen within one second."""
    return moment.astimezone(dt.UTC).strftime("%H:%M:%S.%f")[:-3]


def age(moment: dt.datetime) -> str:
    """How long ago, as the CLI says it (``3m ago``)."""
    return humanise_age(moment, dt.datetime.now(dt.UTC))


def attribute_text(value: Any) -> str:
    """An attribute as text: strings as they are (a traceback keeps its lines), others as JSON."""
    return value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)


def make_templates() -> Jinja2Templates:
    """The templates of the dashboard, escaping every value unless a template says otherwise."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("actors.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        state_class=state_class,
        state_label=state_label,
        utc_time=utc_time,
        epoch_time=epoch_time,
        utc_millis=utc_millis,
        age=age,
        preview=value_preview,
        process_name=process_name,
        attribute_text=attribute_text,
    )
    return Jinja2Templates(env=environment)
