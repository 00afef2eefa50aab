"""The DBOS Transact peer as the harness sees it: a ``VenvPeer`` on SQLite or PostgreSQL.

On SQLite the runner's system database is a file in the workload's temporary home; on
PostgreSQL it is a database created for the session and dropped after it
(``benchmarks.databases.fresh_database``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.databases import SQLITE, fresh_database
from benchmarks.venv_peer.client import VenvPeer
from benchmarks.venv_peer.venv import VenvSpec

SPEC = VenvSpec(
    distribution="dbos",
    requirement="dbos==3.4.*",
    series="3.4.",
    folder="dbos-venv",
    install_time="a few seconds",
)
SETTINGS = (
    "DBOSConfig with name and system_database_url only, every other setting at its default, "
    "as the DBOS docs configure an application (they recommend PostgreSQL for production, "
    "SQLite for development); workflows started with DBOS.start_workflow run on DBOS's "
    "executor threads"
)


class DbosPeer(VenvPeer):
    """DBOS Transact 3.4 in its own virtual environment."""

    name = "dbos"
    spec = SPEC
    flows = Path(__file__).parent

    @contextmanager
    def session_config(self, home: Path, database: str) -> Iterator[dict[str, Any]]:
        """SQLite: a file in ``home``; PostgreSQL: a fresh database, dropped afterwards."""
        if database == SQLITE:
            yield {"database": database, "url": f"sqlite:///{home / 'dbos.sqlite'}"}
            return
        with fresh_database() as url:
            yield {"database": database, "url": url}

    def facts(self) -> dict[str, Any]:
        """Where DBOS ran and how it was configured."""
        return {
            **super().facts(),
            "settings": SETTINGS,
            "sqlite": self._ready.get("sqlite"),
        }

    def database_files(self, home: Path) -> list[Path]:
        """The SQLite system database and its journal (nothing on PostgreSQL)."""
        return [home / "dbos.sqlite", home / "dbos.sqlite-journal", home / "dbos.sqlite-wal"]
