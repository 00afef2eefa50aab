"""The call stack: which process's step runs in this context, as a ``ContextVar``.

A process actor sets it around each step it runs, so a workfunction called inside a step (or a
``self.submit``) finds its caller without asking any actor; ``ProcessStack`` keeps the seed's
API on top of it. A context variable follows the code that runs, not the thread: a step on a
reused thread never sees the stack of the step that ran there before.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from actors.errors import StackError

if TYPE_CHECKING:
    from actors.process import Process
    from provenance.fencing import Fence


@dataclass(frozen=True, slots=True)
class Frame:
    """One entry of the stack: a process and the pids from the outermost caller down to it."""

    process: Process
    pids: tuple[int, ...]
    #: The claim the step's writes are made under: the one its process actor started with,
    #: inherited by what the step calls inline (None where nothing is claimed).
    fence: Fence | None = None


_frames: contextvars.ContextVar[tuple[Frame, ...]] = contextvars.ContextVar(
    "workactors_call_stack", default=()
)


def current() -> Frame | None:
    """The frame of the process whose step runs in this context, or None outside any step."""
    frames = _frames.get()
    return frames[-1] if frames else None


def current_process() -> Process | None:
    """The process whose step runs in this context, or None."""
    frame = current()
    return None if frame is None else frame.process


def push(process: Process, pids: tuple[int, ...] | None = None) -> None:
    """Put ``process`` on top of this context's stack (its pids continue the current ones
    unless given)."""
    pid = process.pid
    if pid is None:
        raise ValueError(f"{process.process_label()} has no pid: launch it first")
    if pids is None:
        frame = current()
        pids = (*(frame.pids if frame else ()), pid)
    _frames.set((*_frames.get(), Frame(process, pids)))


def pop(pid: int | None = None) -> int:
    """Pop the top of this context's stack, checking that it is ``pid`` if given.

    Raises:
        StackError: if the stack is empty or its top is another process.
    """
    frames = _frames.get()
    if not frames:
        raise StackError("the process stack is empty: nothing to pop")
    top = frames[-1].pids[-1]
    if pid is not None and top != pid:
        raise StackError(f"cannot pop process {pid}: the top of the stack is process {top}")
    _frames.set(frames[:-1])
    return top


@contextlib.contextmanager
def running(process: Process, pids: tuple[int, ...], fence: Fence | None = None) -> Iterator[None]:
    """Make ``process`` (called through ``pids``) the running one for the block: one step,
    its writes under ``fence`` (by default the claim of the step that calls it, if any)."""
    if fence is None:
        outer = current()
        if outer is not None and pids[: len(outer.pids)] == outer.pids:
            fence = outer.fence
    token = _frames.set((Frame(process, pids, fence),))
    try:
        yield
    finally:
        _frames.reset(token)


__all__ = ["Frame", "current", "current_process", "pop", "push", "running"]
