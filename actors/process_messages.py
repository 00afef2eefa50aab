"""Messages a ``ProcessActor`` handles: from the runtime, the registry and itself.

``ChildTerminated`` (from the registry) is defined beside the registry's own messages.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Start:
    """Begin: CREATED -> RUNNING and run the first step."""


@dataclass(frozen=True, slots=True)
class Continue:
    """Run the next step."""


@dataclass(frozen=True, slots=True)
class Pause:
    """Run no further step until ``Play``."""


@dataclass(frozen=True, slots=True)
class Play:
    """Resume after ``Pause``."""


@dataclass(frozen=True, slots=True)
class Resume:
    """Go on from a checkpoint: begin, run the next step, or wait again for what was awaited."""


@dataclass(frozen=True, slots=True)
class Suspend:
    """Run no further step and stop, leaving the process to its last checkpoint (a durable
    runtime shutting down). Sent with ``ask``: the answer comes once the step in progress (if
    any) has ended and been checkpointed."""


@dataclass(frozen=True, slots=True)
class Kill:
    """End the process KILLED before its next step."""

    message: str | None = None


__all__ = ["Continue", "Kill", "Pause", "Play", "Resume", "Start", "Suspend"]
