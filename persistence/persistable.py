"""What a store needs of a process to checkpoint it, and where its class is found again.

Kept apart from the stores so that this package needs nothing of ``actors``: a process offers
its pid and its state, and a checkpoint records its class path, by which the class is imported
again on load (``persistence.classes.import_class``).
"""

from __future__ import annotations

from typing import Any, Protocol


class PersistableProcess(Protocol):
    """What ``save_checkpoint`` needs of a process (``actors.Process`` has it)."""

    @property
    def pid(self) -> int | None:
        """The process id, None until launched."""

    def save_instance_state(self) -> dict[str, Any]:
        """The picklable state to record."""


def class_path_of(process: PersistableProcess) -> str:
    """Where ``import_class`` finds the class of ``process`` again: what it says itself (a
    workfunction's process class is reached through its function), else module and name."""
    cls = type(process)
    own = getattr(cls, "class_path", None)
    return str(own()) if callable(own) else f"{cls.__module__}.{cls.__qualname__}"
