"""The process list of the dashboard: one filtered, paginated query, newest first.

``actors.cli.listing.list_processes`` answers the CLI's "the last N, maybe in one state"; the
dashboard needs every filter of its form and an offset, so it builds its own statement from the
same model and returns the same ``NodeSummary`` values.

Counting every match of a filter over a large table costs more than finding the page (the rows
come from the primary key's index, newest first, and stop at the page's end; a count reads every
row). So the count stops at ``COUNT_CAP`` matches past the page, and the page says "more than":
a user paging through ten thousand processes uses the filters instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from actors.cli.queries import NodeSummary
from actors.web.filters import FAILED, ProcessFilter
from provenance import ProcessNode
from provenance.models import DbNode

#: Matches counted beyond the end of the page before the count stops ("more than").
COUNT_CAP = 10_000


@dataclass(frozen=True, slots=True)
class ListingPage:
    """One page of the filtered processes (newest first) and how many match.

    ``total`` is exact unless ``more`` is True: then at least ``total`` match, and more.
    """

    processes: list[NodeSummary]
    total: int
    filter: ProcessFilter
    more: bool = False

    @property
    def pages(self) -> int:
        """How many pages the counted matches fill (at least 1: "page 1 of 1" reads right)."""
        return max(1, -(-self.total // self.filter.per_page))

    @property
    def has_next(self) -> bool:
        """True if older matches follow this page."""
        return self.more or self.filter.page < self.pages


def _conditions(chosen: ProcessFilter) -> list[sa.ColumnElement[bool]]:
    root = ProcessNode.node_type
    conditions: list[sa.ColumnElement[bool]] = [
        sa.or_(DbNode.node_type == root, DbNode.node_type.startswith(f"{root}."))
    ]
    attributes = DbNode.attributes
    if chosen.state is not None:
        conditions.append(attributes["process_state"].as_string() == chosen.state.value)
    if chosen.process_class:
        pattern = f"%{_escaped(chosen.process_class)}%"
        conditions.append(
            sa.func.lower(attributes["process_label"].as_string()).like(
                pattern.lower(), escape="\\"
            )
        )
    if chosen.label:
        pattern = f"%{_escaped(chosen.label)}%"
        conditions.append(sa.func.lower(DbNode.label).like(pattern.lower(), escape="\\"))
    if chosen.exit_status == FAILED:
        conditions.append(attributes["exit_status"].as_integer() != 0)
    elif isinstance(chosen.exit_status, int):
        conditions.append(attributes["exit_status"].as_integer() == chosen.exit_status)
    if chosen.since is not None:
        conditions.append(DbNode.ctime >= chosen.since)
    if chosen.until is not None:
        conditions.append(DbNode.ctime <= chosen.until)
    return conditions


def _escaped(text: str) -> str:
    """``text`` with LIKE's wildcards taken literally: a label filter ``50%`` means 50%."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_page(session: Session, chosen: ProcessFilter) -> ListingPage:
    """The page of processes ``chosen`` asks for, in two queries (rows, then the capped count)."""
    conditions = _conditions(chosen)
    rows = session.execute(
        sa.select(DbNode)
        .where(*conditions)
        .order_by(DbNode.id.desc())
        .limit(chosen.per_page)
        .offset(chosen.offset)
    ).scalars()
    processes = [NodeSummary.from_row(row) for row in rows]
    cap = chosen.offset + chosen.per_page + COUNT_CAP
    matches = sa.select(DbNode.id).where(*conditions).limit(cap + 1).subquery()
    counted = session.execute(sa.select(sa.func.count()).select_from(matches)).scalar_one()
    return ListingPage(
        processes=processes, total=min(counted, cap), filter=chosen, more=counted > cap
    )
