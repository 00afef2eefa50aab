"""The aiida-core peer: ``flows.py`` (run inside its venv) and the client (``AiidaPeer``).

The virtual environment, the runner and the pipe protocol are shared with the other peers
that live in a venv of their own, in ``benchmarks.venv_peer``.
"""

from __future__ import annotations

__all__: list[str] = []
