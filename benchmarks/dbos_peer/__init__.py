"""The DBOS Transact peer: ``flows.py`` (run inside its venv) and the client (``DbosPeer``).

DBOS checkpoints each workflow and each step's result in its system database (SQLite or
PostgreSQL) before going on, which makes it the durable-workflow peer to compare workactors'
daemon with. The virtual environment, runner and pipe protocol are ``benchmarks.venv_peer``'s.
"""

from __future__ import annotations

__all__: list[str] = []
