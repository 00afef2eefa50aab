"""The environment in which the Pythons the harness starts cache their bytecode.

Daemons, their workers and cold starts are timed as an installed package runs: with compiled
bytecode. Where ``PYTHONDONTWRITEBYTECODE`` is set, each of them would compile the engine again
at start and the figures would time the compiler; they write it instead under
``$XDG_CACHE_HOME/workactors-bench/bytecode``, never beside the sources.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def caching_bytecode(environment: Mapping[str, str]) -> dict[str, str]:
    """``environment`` changed so that a Python started with it caches its bytecode."""
    changed = dict(environment)
    if changed.pop("PYTHONDONTWRITEBYTECODE", None):
        cache = changed.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        changed.setdefault(
            "PYTHONPYCACHEPREFIX", str(Path(cache) / "workactors-bench" / "bytecode")
        )
    return changed


def children_cache_bytecode() -> None:
    """Let every Python this one starts from now on cache its bytecode."""
    changed = caching_bytecode(os.environ)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ.update(changed)
