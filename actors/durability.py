"""How a runtime keeps the processes it runs, chosen once when it opens.

``Ephemeral``: nothing is checkpointed; what runs here ends with this program (scripts, blocking
runs, notebooks). ``Checkpointed``: every process run here is held in a ``CheckpointStore`` and
checkpointed after each step, so that a restart or another worker resumes it where it stopped
(what a daemon worker runs). Either way, ``submit`` hands new processes to a store for whoever
adopts them, and tells them through a ``Notifier``.

The engine speaks only to the protocols in ``persistence.store``: a store kept in a database
plugs in here without a change to ``actors``.
"""

from __future__ import annotations

from dataclasses import dataclass

from persistence.store import CheckpointStore, Notifier


@dataclass(frozen=True, slots=True)
class Ephemeral:
    """No checkpoints of the processes run here; submissions go to the home's file store."""


@dataclass(frozen=True, slots=True)
class Checkpointed:
    """Hold and checkpoint every process run here.

    Args:
        store: where checkpoints live; default the home's files (``<home>/running``).
        notifier: who to wake when a process is submitted; default the home's daemon workers
            for the home's files, nobody for another store.
    """

    store: CheckpointStore | None = None
    notifier: Notifier | None = None


Durability = Ephemeral | Checkpointed

__all__ = ["Checkpointed", "Durability", "Ephemeral"]
