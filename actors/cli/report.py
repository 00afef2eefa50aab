"""``process report``: what a process and the processes it called reported, in time order.

The report is one timeline across the call tree: each called process's start, every log record
of every process and each end, sorted by time and indented by depth, so that what children did
in parallel reads in the order it happened. An excepted process's traceback is shown at its
end, where it happened, not only at the root. ``--levelname`` keeps records at that level and
above; ``--max-depth`` keeps that many levels of called processes.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text
from sqlalchemy.orm import Session

from actors.cli.format import LEVEL_STYLES, exit_status_text, process_name, state_text
from actors.cli.queries import NodeSummary, ReportTree, as_utc, call_tree
from provenance import LogEntry, ProcessState
from provenance.models import DbLog

INDENT = 2


class Level(enum.StrEnum):
    """The log levels ``--levelname`` accepts."""

    DEBUG = "DEBUG"
    INFO = "INFO"
    REPORT = "REPORT"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"

    @property
    def number(self) -> int:
        """Its numeric level (REPORT, aiida's level between INFO and WARNING, is 23)."""
        return _number(self.value)


def _number(levelname: str) -> int:
    if levelname == Level.REPORT:
        return 23
    found = logging.getLevelName(levelname)
    return found if isinstance(found, int) else logging.INFO


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the timeline: a process starting, a record it logged, or its end."""

    time: dt.datetime
    depth: int
    process: NodeSummary
    kind: str  # "start", "log" or "end"
    entry: LogEntry | None = None


def _prune(tree: ReportTree, max_depth: int | None, depth: int = 0) -> list[tuple[int, ReportTree]]:
    found = [(depth, tree)]
    if max_depth is not None and depth >= max_depth:
        tree.children = []
        return found
    for child in tree.children:
        found.extend(_prune(child, max_depth, depth + 1))
    return found


def load_report(
    session: Session, pk: int, *, levelname: Level | None = None, max_depth: int | None = None
) -> tuple[ReportTree, list[Event]]:
    """The call tree of ``pk`` (pruned to ``max_depth``) with its filtered logs, and the
    timeline of it all.

    Raises:
        NotExistentError: if no node has that pk.
        NotAProcessError: if node ``pk`` is not a process node.
    """
    root = call_tree(session, pk)
    nodes = _prune(root, max_depth)
    trees = {tree.process.pk: (depth, tree) for depth, tree in nodes}
    query = sa.select(DbLog).where(DbLog.node_id.in_(list(trees))).order_by(DbLog.id)
    least = levelname.number if levelname is not None else None
    events: list[Event] = []
    for row in session.execute(query).scalars():
        if least is not None and _number(row.levelname) < least:
            continue
        depth, tree = trees[row.node_id]
        entry = LogEntry(as_utc(row.time), row.levelname, row.loggername, row.message, {})
        tree.logs.append(entry)
        events.append(Event(entry.time, depth, tree.process, "log", entry))
    for depth, tree in nodes:
        process = tree.process
        events.append(Event(process.ctime, depth, process, "start"))
        state = process.state
        if state is not None and state.is_terminal:
            events.append(Event(process.mtime, depth, process, "end"))
    order = {"start": 0, "log": 1, "end": 2}
    events.sort(key=lambda event: (event.time, order[event.kind]))
    return root, events


def _indented(renderable: RenderableType, indent: int) -> Padding:
    return Padding(renderable, (0, 0, 0, indent), expand=False)


def _stamp(moment: dt.datetime) -> str:
    """A stored UTC time in the local zone, to the millisecond: records of one second apart."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _line(event: Event) -> list[RenderableType]:
    """One event as ``time level <indent>what``; starts and ends leave the level blank."""
    process = event.process
    indent = " " * (event.depth * INDENT)
    if event.kind == "log":
        assert event.entry is not None
        entry = event.entry
        return [
            Text.assemble(
                (_stamp(event.time), "dim"),
                " ",
                (f"{entry.levelname:<8}", LEVEL_STYLES.get(entry.levelname, "")),
                " ",
                indent,
                (f"{process_name(process)} ", "dim"),
                entry.message,
            )
        ]
    head = Text.assemble((_stamp(event.time), "dim"), " " * 10, indent)
    if event.kind == "start":
        return [Text.assemble(head, (process_name(process), "bold"), " started")]
    ended = Text.assemble(head, (process_name(process), "bold"), " ", state_text(process))
    if process.exit_status is not None:
        ended.append_text(Text.assemble(" (exit ", exit_status_text(process), ")"))
    if process.exit_message:
        ended.append(f": {process.exit_message}")
    lines: list[RenderableType] = [ended]
    if process.state is ProcessState.EXCEPTED and process.exception:
        traceback = Text(process.exception.rstrip(), style="red")
        lines.append(_indented(traceback, len(head) + INDENT))
    return lines


def render(root: ReportTree, events: list[Event]) -> RenderableType:
    """The timeline, headed by the process the report is about."""
    process = root.process
    head = Text.assemble((process_name(process), "bold"), " ", state_text(process))
    if process.exit_status is not None:
        head.append_text(Text.assemble(" (exit ", exit_status_text(process), ")"))
    if not events:
        return Group(head, Text("no log records", style="dim"))
    lines: list[RenderableType] = [head]
    for event in events:
        lines.extend(_line(event))
    return Group(*lines)
