"""Reading the stored nodes that many checkpoints name in one query, before they are restored.

A worker adopting twenty checkpoints restores each by its class's ``load_instance_state``, which
loads the nodes that checkpoint names with ``load_nodes``: one query each, a fifth of a daemon
worker's CPU in the ``daemon_steps`` benchmark. ``read_rows`` reads the rows of all of them in
one query first; inside a ``preloaded(rows)`` block ``load_nodes`` builds its nodes from those
rows (a new ``Node`` each time, exactly as from a query) and asks the database only for the
rest. The rows are read after the checkpoints' locks are taken: nobody runs those processes
meanwhile.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from provenance.reading import read_storage

if TYPE_CHECKING:
    from provenance.models import DbNode

#: The text form of a uuid, as nodes store theirs (``provenance.uuids``).
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: Uuids are sent to the database in chunks of this many (SQLite's default variable limit).
CHUNK = 900

_rows: ContextVar[dict[str, DbNode] | None] = ContextVar("preloaded_node_rows", default=None)


def uuids_in(value: Any) -> set[str]:
    """Every string shaped like a uuid in ``value`` and the dicts, lists and tuples inside it:
    the nodes a checkpoint's state may name (a string that only looks like one costs a row
    that is never asked for)."""
    found: set[str] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if len(item) == 36 and _UUID.fullmatch(item):
                found.add(item)
        elif isinstance(item, Mapping):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return found


def read_rows(uuids: Iterable[str]) -> dict[str, DbNode]:
    """The stored rows of the nodes among ``uuids``, by uuid, in one query per ``CHUNK``."""
    import sqlalchemy as sa  # on first use: not at every program's start

    from provenance.models import DbNode

    wanted = sorted(set(uuids))
    rows: dict[str, DbNode] = {}
    if not wanted:
        return rows
    with read_storage().read_session() as session:
        for start in range(0, len(wanted), CHUNK):
            query = sa.select(DbNode).where(DbNode.uuid.in_(wanted[start : start + CHUNK]))
            rows.update((row.uuid, row) for row in session.execute(query).scalars())
    return rows


@contextmanager
def preloaded(rows: Mapping[str, DbNode]) -> Iterator[None]:
    """Within the block, ``load_nodes`` takes the nodes among ``rows`` (``read_rows``) from
    there, on this thread (and its context) only. Each row serves one call: two processes
    naming the same node get a node each, built from a row each, sharing nothing (as from
    two queries)."""
    token = _rows.set(dict(rows))
    try:
        yield
    finally:
        _rows.reset(token)


def preloaded_rows(uuids: Iterable[str]) -> dict[str, DbNode]:
    """Take the rows among ``uuids`` from the enclosing ``preloaded`` block (they serve no
    later call); empty outside one."""
    rows = _rows.get()
    if not rows:
        return {}
    return {uuid: rows.pop(uuid) for uuid in uuids if uuid in rows}
