"""The defaults a runtime assembles when its policy leaves them open.

This is the composition root's one place of knowledge about concrete stores and the daemon: the
home's files are the default store, the home's daemon workers are woken for submissions into
them. Every other engine module speaks to ``persistence.store``'s protocols only.
"""

from __future__ import annotations

from pathlib import Path

from actors.durability import Checkpointed, Durability
from actors.home import running_directory
from persistence.pickle_persistence import PicklePersistence
from persistence.store import NoNotifier, Notifier

#: The signing key of a home's checkpoints, beside its database.
KEY_FILE_NAME = "checkpoint.key"


def home_file_store(home: Path) -> PicklePersistence:
    """The file store of ``home``: ``running/`` with ``finished/`` and ``failed/`` in it."""
    running = running_directory(home)
    return PicklePersistence(
        running, running / "finished", running / "failed", key_file=home / KEY_FILE_NAME
    )


def choose_notifier(policy: Durability, home: Path) -> Notifier:
    """The policy's notifier; else the home's daemon for the home's files; else nobody."""
    if isinstance(policy, Checkpointed):
        if policy.notifier is not None:
            return policy.notifier
        if policy.store is not None:
            return NoNotifier()
    return HomeNotifier(home)


class HomeNotifier:
    """The ``Notifier`` of a home's file store: wakes the home's daemon workers (if any run)."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def __repr__(self) -> str:
        return f"HomeNotifier({str(self.home)!r})"

    def submitted(self, pid: int) -> None:
        """A checkpoint was written into the home's running folder: wake the workers."""
        # Imported at the first submission: the daemon package costs a cold start ~0.15 s.
        from actors.daemon.wake import notify_workers

        notify_workers(self.home)
