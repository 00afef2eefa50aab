"""Rich views of the read models: the tables and listings the CLI prints for people.

Every piece of stored text goes in as a ``Text`` object, never as a markup string, so that a
report line like ``[Parent|run]`` or a label with brackets prints as it was written.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from actors.cli.checkpoints import CheckpointView, summary
from actors.cli.format import (
    LEVEL_STYLES,
    MISSING,
    exit_status_text,
    format_time,
    humanise_age,
    process_name,
    state_text,
    value_preview,
)
from actors.cli.queries import Link, NodeDetail, NodeSummary, ProcessPage, ReportTree
from actors.daemon.requeue import FailedCheckpoint
from provenance import LinkType, LogEntry, ProcessState

INDENT = 4


def stdout_console() -> Console:
    """A console on the current stdout; made per command so that redirections are honoured."""
    return Console(highlight=False)


def stderr_console() -> Console:
    """A console on the current stderr, for errors."""
    return Console(stderr=True, highlight=False)


def _fields(rows: Iterable[tuple[str, str | Text]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for name, value in rows:
        grid.add_row(name, value if isinstance(value, Text) else Text(value))
    return grid


def _heading(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


def _time_with_age(moment: dt.datetime, now: dt.datetime) -> Text:
    return Text.assemble(format_time(moment), (f" ({humanise_age(moment, now)})", "dim"))


def process_list(page: ProcessPage, now: dt.datetime) -> RenderableType:
    """The table of ``process list``, newest last, with a note when rows were left out."""
    if not page.processes:
        return Text("No processes match.", style="dim")
    table = Table(box=None, header_style="bold", pad_edge=False)
    labelled = any(process.label for process in page.processes)
    table.add_column("PK", justify="right")
    table.add_column("Label")
    if labelled:
        table.add_column("Node label")
    table.add_column("State")
    table.add_column("Exit", justify="right")
    table.add_column("Age", justify="right")
    for process in page.processes:
        table.add_row(
            str(process.pk),
            Text(process.process_label or process.node_type),
            *([Text(process.label)] if labelled else []),
            state_text(process),
            exit_status_text(process),
            humanise_age(process.ctime, now),
        )
    shown = len(page.processes)
    if shown < page.total:
        note = f"The last {shown} of {page.total} processes; --all shows every one."
        return Group(table, Text(note, style="dim"))
    return table


def _data_table(links: list[Link], *, with_link_type: bool = False) -> RenderableType:
    if not links:
        return Text("none", style="dim")
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("Label")
    table.add_column("PK", justify="right")
    table.add_column("Type")
    if with_link_type:
        table.add_column("Link")
    table.add_column("Value")
    for link in links:
        cells: list[str | Text] = [
            Text(link.label),
            str(link.node.pk),
            Text(link.node.node_type),
        ]
        if with_link_type:
            cells.append(link.link_type.value)
        cells.append(Text(value_preview(link.node.value)))
        table.add_row(*cells)
    return table


def _process_table(processes: list[NodeSummary]) -> RenderableType:
    if not processes:
        return Text("none", style="dim")
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("PK", justify="right")
    table.add_column("Label")
    table.add_column("State")
    table.add_column("Exit", justify="right")
    for process in processes:
        table.add_row(
            str(process.pk),
            Text(process.process_label or process.node_type),
            state_text(process),
            exit_status_text(process),
        )
    return table


def process_detail(
    detail: NodeDetail, now: dt.datetime, *, checkpoint: CheckpointView | None = None
) -> RenderableType:
    """``process show``: the node's fields, its checkpoint, its data in and out, its caller
    and callees."""
    node = detail.node
    callers = [link.node for link in detail.incoming_of(LinkType.CALL)]
    caller: Text = (
        Text.assemble(process_name(callers[0]), " ", state_text(callers[0]))
        if callers
        else Text(MISSING, style="dim")
    )
    fields = _fields(
        [
            ("type", node.node_type),
            ("pk", str(node.pk)),
            ("uuid", node.uuid),
            ("label", node.process_label or MISSING),
            *([("node label", node.label)] if node.label else []),
            *([("description", detail.description)] if detail.description else []),
            ("state", state_text(node)),
            ("exit status", exit_status_text(node)),
            ("exit message", node.exit_message or Text(MISSING, style="dim")),
            *([("cached from", node.cached_from)] if node.cached_from else []),
            ("ctime", _time_with_age(node.ctime, now)),
            ("mtime", _time_with_age(node.mtime, now)),
            ("caller", caller),
            ("checkpoint", summary(checkpoint, now) if checkpoint else Text(MISSING, style="dim")),
        ]
    )
    parts: list[RenderableType] = [
        fields,
        _heading("Inputs"),
        _data_table(detail.incoming_of(LinkType.INPUT)),
        _heading("Outputs"),
        _data_table(detail.outgoing_of(LinkType.CREATE, LinkType.RETURN), with_link_type=True),
        _heading("Called"),
        _process_table([link.node for link in detail.outgoing_of(LinkType.CALL)]),
    ]
    if node.state is ProcessState.EXCEPTED and node.exception:
        parts += [_heading("Exception"), Text(node.exception.rstrip(), style="red")]
    return Group(*parts)


def _indented(renderable: RenderableType, indent: int) -> Padding:
    # Not expanded: a padded line would otherwise end in spaces up to the terminal's width.
    return Padding(renderable, (0, 0, 0, indent), expand=False)


def _log_line(entry: LogEntry) -> Text:
    return Text.assemble(
        (format_time(entry.time), "dim"),
        " ",
        (f"{entry.levelname:<8}", LEVEL_STYLES.get(entry.levelname, "")),
        entry.message,
    )


def _report_lines(tree: ReportTree, depth: int) -> list[RenderableType]:
    process = tree.process
    header = Text.assemble((process_name(process), "bold"), " ", state_text(process))
    if process.exit_status is not None:
        header.append_text(Text.assemble(" (exit ", exit_status_text(process), ")"))
    lines: list[RenderableType] = [_indented(header, depth * INDENT)]
    if not tree.logs and not tree.children:
        lines.append(_indented(Text("no log records", style="dim"), depth * INDENT + 2))
    # A called process goes where it started among its caller's records, so the report reads
    # in the order things happened; on a tie the caller's record comes first.
    events: list[tuple[dt.datetime, int, LogEntry | ReportTree]] = [
        (entry.time, 0, entry) for entry in tree.logs
    ]
    events += [(child.process.ctime, 1, child) for child in tree.children]
    for _time, _order, event in sorted(events, key=lambda item: item[:2]):
        if isinstance(event, ReportTree):
            lines.extend(_report_lines(event, depth + 1))
        else:
            lines.append(_indented(_log_line(event), depth * INDENT + 2))
    return lines


def process_report(tree: ReportTree) -> RenderableType:
    """``process report``: each process's log, the processes it called indented beneath it."""
    return Group(*_report_lines(tree, 0))


def _link_table(links: list[Link]) -> RenderableType:
    if not links:
        return Text("none", style="dim")
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("Link")
    table.add_column("Label")
    table.add_column("PK", justify="right")
    table.add_column("Node type")
    for link in links:
        table.add_row(
            link.link_type.value, Text(link.label), str(link.node.pk), Text(link.node.node_type)
        )
    return table


def _attribute_text(value: object) -> Text:
    # Strings print as they are, so that a stored traceback keeps its lines.
    if isinstance(value, str):
        return Text(value)
    return Text(json.dumps(value, default=str, ensure_ascii=False))


def node_detail(detail: NodeDetail, now: dt.datetime) -> RenderableType:
    """``node show``: any node's fields, attributes and links in both directions."""
    node = detail.node
    rows: list[tuple[str, str | Text]] = [
        ("type", node.node_type),
        ("pk", str(node.pk)),
        ("uuid", node.uuid),
        ("label", node.label or Text(MISSING, style="dim")),
    ]
    if detail.description:
        rows.append(("description", detail.description))
    rows += [("ctime", _time_with_age(node.ctime, now)), ("mtime", _time_with_age(node.mtime, now))]
    attributes = _fields(
        (name, _attribute_text(value)) for name, value in sorted(node.attributes.items())
    )
    return Group(
        _fields(rows),
        _heading("Attributes"),
        attributes if node.attributes else Text("none", style="dim"),
        _heading("Incoming links"),
        _link_table(detail.incoming),
        _heading("Outgoing links"),
        _link_table(detail.outgoing),
    )


def failed_checkpoints(found: list[FailedCheckpoint]) -> RenderableType:
    """``process requeue --list``: each checkpoint of ``running/failed`` and why it is there."""
    if not found:
        return Text("No checkpoint in running/failed.", style="dim")
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("PK", justify="right")
    table.add_column("Moved")
    table.add_column("Reason", overflow="fold")
    for checkpoint in found:
        table.add_row(str(checkpoint.pid), format_time(checkpoint.moved), Text(checkpoint.reason))
    return table


def separated(views: list[RenderableType]) -> RenderableType:
    """Several views one after another, a blank line between two (``show 3 4 5``)."""
    parts: list[RenderableType] = []
    for index, view in enumerate(views):
        if index:
            parts.append(Text(""))
        parts.append(view)
    return Group(*parts)


def error_line(message: str) -> Text:
    """An error message as one red line."""
    return Text(f"Error: {message}", style="red")
