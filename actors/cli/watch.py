"""Live views: a process tree (``process watch``) or the process list (``process list --watch``).

Each refresh reads the database afresh in a new session (a session keeps its snapshot), renders
with rich and hands the result to ``rich.live.Live``, which redraws in place. Refreshing every
second or so costs one query per generation of the tree: the database is the one place that
knows what every worker is doing.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator

from rich.console import Console, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from actors.cli import queries
from actors.cli.format import exit_status_text, format_elapsed, state_text
from actors.cli.queries import NodeSummary, ReportTree
from actors.cli.render import process_list

#: Seconds between two refreshes, by default.
DEFAULT_INTERVAL = 1.0


def elapsed(process: NodeSummary, now: dt.datetime) -> float:
    """Seconds the process has run: to its end (last change) if it ended, else to ``now``."""
    state = process.state
    end = process.mtime if state is not None and state.is_terminal else now
    return max(0.0, (end - process.ctime).total_seconds())


def _rows(tree: ReportTree, lead: str, tail: str) -> Iterator[tuple[str, NodeSummary]]:
    """Depth-first rows with tree-drawing prefixes: ``lead`` for this one, ``tail`` beneath."""
    yield lead, tree.process
    for index, child in enumerate(tree.children):
        last = index == len(tree.children) - 1
        yield from _rows(
            child, tail + ("└─ " if last else "├─ "), tail + ("   " if last else "│  ")
        )


def process_tree(tree: ReportTree, now: dt.datetime) -> RenderableType:
    """The table of ``process watch``: every process of the tree, its state and how long."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("Process")
    table.add_column("PK", justify="right")
    table.add_column("State")
    table.add_column("Exit", justify="right")
    table.add_column("Elapsed", justify="right")
    for prefix, process in _rows(tree, "", ""):
        table.add_row(
            Text.assemble((prefix, "dim"), process.process_label or process.node_type),
            str(process.pk),
            state_text(process),
            exit_status_text(process),
            format_elapsed(elapsed(process, now)),
        )
    return table


def count_states(tree: ReportTree) -> dict[str, int]:
    """How many processes of the tree are in each state (by state value)."""
    counts: dict[str, int] = {}
    for _prefix, process in _rows(tree, "", ""):
        key = process.state.value if process.state is not None else "unknown"
        counts[key] = counts.get(key, 0) + 1
    return counts


def tree_view(tree: ReportTree, now: dt.datetime) -> RenderableType:
    """The tree's table with a line of counts beneath."""
    counts = ", ".join(f"{count} {state}" for state, count in sorted(count_states(tree).items()))
    table = process_tree(tree, now)
    grid = Table.grid()
    grid.add_row(table)
    grid.add_row(Text(counts, style="dim"))
    return grid


def is_over(tree: ReportTree) -> bool:
    """True once the root of the tree has terminated."""
    state = tree.process.state
    return state is not None and state.is_terminal


def watch(
    console: Console,
    render: Callable[[], tuple[RenderableType, bool]],
    *,
    interval: float = DEFAULT_INTERVAL,
    stop: threading.Event | None = None,
) -> None:
    """Show ``render()`` live, refreshed every ``interval`` seconds, until it says it is over
    (its second value), ``stop`` is set, or Ctrl-C."""
    stop = stop or threading.Event()
    view, over = render()
    with Live(view, console=console, auto_refresh=False) as live:
        try:
            while not over and not stop.wait(interval):
                view, over = render()
                live.update(view, refresh=True)
        except KeyboardInterrupt:
            return


def page_view(page: queries.ProcessPage, now: dt.datetime) -> RenderableType:
    """``process list --watch``: the list, with the time of the refresh."""
    grid = Table.grid()
    grid.add_row(process_list(page, now))
    grid.add_row(Text(f"as of {now.astimezone():%H:%M:%S}; Ctrl-C to leave", style="dim"))
    return grid
