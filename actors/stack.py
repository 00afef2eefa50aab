"""``ProcessStack``: the process whose step runs in the caller's context, asked of the registry."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pykka

from actors.registry import GetProcess, GetStack, Pop, Push, ask
from provenance.process_nodes import ProcessNode

if TYPE_CHECKING:
    from actors.process import Process


def _registry() -> pykka.ActorRef[Any]:
    from actors.runtime import get_runtime

    return get_runtime().registry


class ProcessStack:
    """The call stack of processes, per execution context, kept by the registry actor."""

    @classmethod
    def stack(cls) -> tuple[int, ...]:
        """The pids on the caller's stack, bottom first."""
        stack: tuple[int, ...] = ask(_registry(), GetStack(threading.get_ident()))
        return stack

    @classmethod
    def push(cls, process: Process) -> None:
        """Put a launched process on top of the caller's stack."""
        if process.pid is None:
            raise ValueError(f"{process.process_label()} has no pid: launch it first")
        ask(_registry(), Push(threading.get_ident(), process.pid))

    @classmethod
    def pop(cls, process: Process | None = None, pid: int | None = None) -> int:
        """Pop the top of the caller's stack, checking that it is ``process`` (or ``pid``).

        Raises:
            StackError: if the stack is empty or its top is another process.
        """
        if process is not None:
            pid = process.pid
        popped: int = ask(_registry(), Pop(threading.get_ident(), pid))
        return popped

    @classmethod
    def get_active_process_id(cls) -> int | None:
        """The pid on top of the caller's stack, or None outside any process."""
        stack = cls.stack()
        return stack[-1] if stack else None

    @classmethod
    def top(cls) -> Process | None:
        """The live process on top of the caller's stack, or None."""
        pid = cls.get_active_process_id()
        if pid is None:
            return None
        process: Process | None = ask(_registry(), GetProcess(pid))
        return process

    @classmethod
    def get_active_process_calc_node(cls) -> ProcessNode | None:
        """The node of the process on top of the caller's stack, or None."""
        process = cls.top()
        return None if process is None else process.node
