"""``process list`` on the query layer: the filters a user types, as one ``QueryBuilder`` query.

Like ``verdi process list``, the listing shows the processes that are still going (created,
running, waiting, paused) first, then the ones that ended, each group oldest first; ``--limit``
keeps the newest. A page is one query (a second one counts the matches only when the page
was cut by the limit).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import typer

from actors.cli.queries import NodeSummary, ProcessPage, as_utc
from provenance import ProcessNode, ProcessState, QueryBuilder
from provenance.storage import Storage

#: What ``process list`` projects: the columns of a ``NodeSummary``.
_COLUMNS = ["id", "uuid", "node_type", "label", "attributes", "ctime", "mtime"]


PAUSED = "paused"
#: What ``-s/--state`` takes: a process state, or ``paused``.
STATE_CHOICES = (*(state.value for state in ProcessState), PAUSED)


def state_choice(value: str) -> str:
    """Check one ``-s/--state`` value (any case).

    Raises:
        typer.BadParameter: naming the states there are.
    """
    state = value.strip().lower()
    if state not in STATE_CHOICES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(STATE_CHOICES)}")
    return state


@dataclass(frozen=True, slots=True)
class ProcessFilter:
    """The filters of ``process list``; empty ones select everything."""

    states: tuple[str, ...] = ()
    past_days: int | None = None
    process_label: str | None = None
    #: The node's own label (a launch's ``metadata={"label": ...}``).
    label: str | None = None
    process_class: str | None = None
    exit_status: int | None = None
    failed: bool = False

    def filters(self, now: dt.datetime) -> dict[str, Any]:
        """The ``QueryBuilder`` filters of the process vertex."""
        clauses: list[dict[str, Any]] = []
        if self.states:
            clauses.append(
                {
                    "or": [
                        {"attributes.paused": True}
                        if state == PAUSED
                        else {"attributes.process_state": state}
                        for state in self.states
                    ]
                }
            )
        if self.past_days is not None:
            clauses.append({"ctime": {">=": now - dt.timedelta(days=self.past_days)}})
        if self.process_label is not None:
            operator = "like" if "%" in self.process_label else "=="
            clauses.append({"attributes.process_label": {operator: self.process_label}})
        if self.label is not None:
            clauses.append({"label": {"like" if "%" in self.label else "==": self.label}})
        if self.process_class is not None:
            clauses.append(_class_filter(self.process_class))
        if self.exit_status is not None:
            clauses.append({"attributes.exit_status": self.exit_status})
        if self.failed:
            clauses.append(
                {
                    "attributes.process_state": ProcessState.FINISHED.value,
                    "attributes.exit_status": {"!=": 0},
                }
            )
        return {"and": clauses} if clauses else {}


def _class_filter(name: str) -> dict[str, Any]:
    """A class given by its full path (``pkg.mod.Cls``), or by its name alone."""
    escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {"or": [{"process_type": name}, {"process_type": {"like": f"%.{escaped}"}}]}


def _summary(row: list[Any]) -> NodeSummary:
    pk, uuid, node_type, label, attributes, ctime, mtime = row
    return NodeSummary(
        pk=pk,
        uuid=uuid,
        node_type=node_type,
        label=label,
        attributes=dict(attributes or {}),
        ctime=as_utc(ctime),
        mtime=as_utc(mtime),
    )


def _active_first(process: NodeSummary) -> tuple[bool, int]:
    state = process.state
    return (state is not None and state.is_terminal, process.pk)


def list_processes(
    storage: Storage,
    *,
    limit: int | None,
    where: ProcessFilter | None = None,
    now: dt.datetime | None = None,
) -> ProcessPage:
    """The newest ``limit`` processes that pass ``where`` (all if None): active ones first,
    then the ended ones, each oldest first; and how many match in all."""
    filters = (where or ProcessFilter()).filters(now or dt.datetime.now(dt.UTC))
    query = QueryBuilder(storage=storage).append(
        ProcessNode, tag="process", filters=filters, project=_COLUMNS
    )
    query.order_by({"process": {"id": "desc"}})
    if limit is not None:
        query.limit(limit)
    processes = sorted((_summary(row) for row in query.all()), key=_active_first)
    total = len(processes)
    if limit is not None and total == limit:
        # Cut by the limit: count the matches (without the limit) for the note.
        counting = QueryBuilder(storage=storage).append(ProcessNode, filters=filters)
        total = counting.count()
    return ProcessPage(processes=processes, total=total)
