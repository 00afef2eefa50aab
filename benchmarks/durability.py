"""What each side of the durable comparison makes durable, printed next to its figures.

A durable step that waits for an fsync costs far more than one that does not, so a ratio means
nothing without the settings behind it. The rows are built for the peers and databases that
ran: PostgreSQL's settings are read from the server, DBOS's SQLite pragmas from the runner (as
DBOS's own connections see them), and workactors' from its code (``provenance/storage.py``
sets the SQLite pragmas, ``persistence/atomic.py`` fsyncs checkpoint files).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.markup import escape
from rich.table import Table

from benchmarks.databases import SQLITE

DURABLE_WORKLOADS = frozenset({"workfunction_add", "daemon_steps", "daemon_fanout", "cold_start"})
"""The workloads that mean the same thing on workactors and DBOS."""

_WORKACTORS_SQLITE = "SQLite WAL, synchronous=NORMAL (commits reach the WAL, fsynced at WAL "
_WORKACTORS_SQLITE += "checkpoints); checkpoint files: write, fsync, rename, fsync folder"


def _postgres(settings: dict[str, str] | None) -> str:
    if not settings:
        return "PostgreSQL (settings not read)"
    return (
        f"PostgreSQL {settings.get('server_version', '?')}: fsync={settings.get('fsync')}, "
        f"synchronous_commit={settings.get('synchronous_commit')}, "
        f"wal_sync_method={settings.get('wal_sync_method')}"
    )


def _dbos_sqlite(pragmas: dict[str, Any] | None) -> str:
    if not pragmas:
        return "SQLite (pragmas not read)"
    return (
        f"SQLite journal_mode={pragmas.get('journal_mode')}, "
        f"synchronous={pragmas.get('synchronous')} (DBOS defaults: every commit fsynced)"
    )


def rows(
    ran: Iterable[tuple[str, str]],
    *,
    postgres: dict[str, str] | None,
    dbos_sqlite: dict[str, Any] | None,
) -> list[dict[str, str]]:
    """One row per (peer, database) that ran a durable-comparison workload.

    Args:
        ran: (peer, database) pairs, workactors and dbos only are described.
        postgres: the server's settings (``databases.server_settings``), if PostgreSQL ran.
        dbos_sqlite: DBOS's SQLite pragmas from its runner, if DBOS ran on SQLite.
    """
    described: list[dict[str, str]] = []
    for peer, database in dict.fromkeys(ran):
        if peer == "workactors":
            durable_step = (
                "checkpoint file (fsynced) and provenance committed"
                if database == SQLITE
                else "checkpoint row and provenance committed in PostgreSQL"
            )
            described.append(
                {
                    "peer": peer,
                    "database": database,
                    "sync": _WORKACTORS_SQLITE if database == SQLITE else _postgres(postgres),
                    "per_durable_step": durable_step + " before the next step",
                    "per_blocking_run": "provenance committed, no checkpoint "
                    + ("(no fsync per commit)" if database == SQLITE else "(commit flushed)"),
                }
            )
        elif peer == "dbos":
            described.append(
                {
                    "peer": peer,
                    "database": database,
                    "sync": _dbos_sqlite(dbos_sqlite)
                    if database == SQLITE
                    else _postgres(postgres),
                    "per_durable_step": "the step's output row committed before the next step",
                    "per_blocking_run": "workflow status row (inputs, output) committed",
                }
            )
    return described


def build_table(described: list[dict[str, str]]) -> Table:
    """The rows as a rich table."""
    table = Table(
        title="durability of each side (what a figure above has paid for)",
        title_justify="left",
        header_style="bold",
    )
    for header in ("peer", "database", "sync settings", "per durable step", "per blocking run"):
        table.add_column(header, overflow="fold")
    for row in described:
        table.add_row(
            *(
                escape(row[key])
                for key in ("peer", "database", "sync", "per_durable_step", "per_blocking_run")
            )
        )
    return table


__all__ = ["DURABLE_WORKLOADS", "build_table", "rows"]
