"""What peers in their own virtual environments share: the venv, the runner and its client.

A peer such as aiida-core or DBOS never shares an interpreter with workactors: it lives in a
virtual environment the harness creates on first use (``venv``), ``runner.py`` runs inside it
with the peer's ``flows.py``, and ``client`` talks to the runner over pipes.
"""

from __future__ import annotations

__all__: list[str] = []
