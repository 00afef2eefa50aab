"""Call keys: which child is which among its caller's launches, the same after a crash.

A child is known by its caller, the index of the caller's step that launched it and its launch
index within that step: ``<step>.<launch>``, stored on the child's node (``actors.reattach``).
The step index is saved in checkpoints, so a step run again after a crash gives each launch the
key it had the first time, and ``actors.reattach`` finds the child launched then instead of
launching a second one. The counters are fields of the ``Process``; they are kept here so that
the class users subclass does not also carry the engine's bookkeeping.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from actors.process import Process


def start_counting(process: Process, step_index: int) -> None:
    """Count the steps of ``process`` on from ``step_index`` (0 for a new process, the saved
    index for one loaded from a checkpoint), as if it were not resumed."""
    process._step_index = step_index
    process._launches = 0
    process._resumed_at = None
    process._launched_before = None


def begin_step(process: Process) -> None:
    """A step begins: count it, and its launches from zero."""
    process._step_index += 1
    process._launches = 0


def next_call_key(process: Process) -> str:
    """The identity of the next child launched in this step: ``<step>.<launch>``."""
    process._launches += 1
    return f"{process._step_index}.{process._launches}"


def mark_resumed(process: Process) -> None:
    """``process`` was loaded from a checkpoint that a crash may have left behind."""
    process._resumed_at = process._step_index
    process._launched_before = None


def replaying(process: Process) -> bool:
    """True during the first step after a resume: it may have run (in part) before."""
    resumed_at = process._resumed_at
    return resumed_at is not None and process._step_index == resumed_at + 1


__all__ = ["begin_step", "mark_resumed", "next_call_key", "replaying", "start_counting"]
