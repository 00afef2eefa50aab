"""The aiida-core peer: its own virtual environment, a runner script and the client for it.

aiida-core and workactors never share an interpreter: aiida-core lives in a virtual
environment the harness creates on first use (``venv``), ``runner.py`` and ``flows.py`` run
inside it, and ``client`` is the workactors-side ``Peer`` that talks to the runner over pipes.
"""

from __future__ import annotations

__all__: list[str] = []
