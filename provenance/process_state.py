"""The states a process passes through, as recorded on its node.

The enum lives in ``provenance`` because process nodes report it; the rules of which state may
follow which belong to the engine (``actors.states``).
"""

from __future__ import annotations

import enum


class ProcessState(enum.Enum):
    """Where a process is in its life."""

    CREATED = "created"
    RUNNING = "running"
    WAITING = "waiting"
    FINISHED = "finished"
    EXCEPTED = "excepted"
    KILLED = "killed"

    @property
    def is_terminal(self) -> bool:
        """True for the states a process never leaves."""
        return self in _TERMINAL


_TERMINAL = frozenset({ProcessState.FINISHED, ProcessState.EXCEPTED, ProcessState.KILLED})
