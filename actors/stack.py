"""``ProcessStack``: the seed's call-stack API over the context's stack (``actors.call_stack``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from actors import call_stack
from provenance.process_nodes import ProcessNode

if TYPE_CHECKING:
    from actors.process import Process


class ProcessStack:
    """The call stack of processes in the caller's execution context."""

    @classmethod
    def stack(cls) -> tuple[int, ...]:
        """The pids on the caller's stack, the outermost caller first."""
        frame = call_stack.current()
        return () if frame is None else frame.pids

    @classmethod
    def push(cls, process: Process) -> None:
        """Put a launched process on top of the caller's stack.

        Raises:
            ValueError: if the process was never launched (it has no pid).
        """
        call_stack.push(process)

    @classmethod
    def pop(cls, process: Process | None = None, pid: int | None = None) -> int:
        """Pop the top of the caller's stack, checking that it is ``process`` (or ``pid``).

        Raises:
            StackError: if the stack is empty or its top is another process.
        """
        if process is not None:
            pid = process.pid
        return call_stack.pop(pid)

    @classmethod
    def get_active_process_id(cls) -> int | None:
        """The pid on top of the caller's stack, or None outside any process."""
        stack = cls.stack()
        return stack[-1] if stack else None

    @classmethod
    def top(cls) -> Process | None:
        """The process on top of the caller's stack, or None."""
        return call_stack.current_process()

    @classmethod
    def get_active_process_calc_node(cls) -> ProcessNode | None:
        """The node of the process on top of the caller's stack, or None."""
        process = cls.top()
        return None if process is None else process.node
