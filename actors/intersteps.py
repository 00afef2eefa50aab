"""What a work chain waits on between two steps, and what it does with it afterwards.

A step hands the engine *intersteps*. When the step ends each interstep may insert barriers (pids
to wait for); when every barrier is gone, just before the next step, each interstep acts, in the
order it was inserted: ``UpdateContext`` puts the awaited child's node (or its outputs) into ctx.
``ToContext``, ``to_context`` and ``append_`` are sugar that build ``UpdateContext``s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from actors.errors import WaitError
from provenance.nodes import load_node
from provenance.process_nodes import ProcessNode


@dataclass(frozen=True, slots=True)
class Outputs:
    """Await ``handle`` and take its outputs dict (label -> node) instead of its node."""

    handle: Any


@dataclass(frozen=True, slots=True)
class _Append:
    handle: Any


def append_(handle: Any) -> _Append:
    """Await ``handle`` and append it to the list at the ctx key (created if absent)."""
    return _Append(handle)


def awaited_pid(handle: Any) -> int:
    """The pid a handle stands for: a process node, a ``RunningInfo``, or a pid.

    Raises:
        WaitError: if ``handle`` is none of those, or is a process node never launched.
    """
    if isinstance(handle, Outputs | _Append):
        return awaited_pid(handle.handle)
    if isinstance(handle, ProcessNode):
        if handle.pk is None:
            raise WaitError(f"cannot wait on {handle!r}: that process was never launched")
        return handle.pk
    pid = getattr(handle, "pid", handle)  # RunningInfo(type, pid) carries its pid
    if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0:
        return pid
    raise WaitError(
        f"cannot wait on {handle!r}: pass what self.submit(...) returned (a process node), "
        "a RunningInfo, or Outputs(...) / append_(...) of one"
    )


@runtime_checkable
class Interstep(Protocol):
    """Acts between two steps of a work chain."""

    def on_last_step_finished(self, workchain: Any) -> None:
        """The step that inserted this interstep ended: insert barriers here."""
        ...

    def on_next_step_starting(self, workchain: Any) -> None:
        """Every barrier is gone and the next step is about to run: act here."""
        ...


@dataclass(frozen=True, slots=True)
class UpdateContext:
    """Wait for ``value``'s process to terminate, then set (or append to) ``ctx[key]``.

    ``value`` is a handle (process node or ``RunningInfo``), possibly wrapped in ``Outputs`` or
    ``append_``. The node is kept when it is at hand; it pickles by value in a checkpoint.
    """

    key: str
    value: Any

    def __post_init__(self) -> None:
        awaited_pid(self.value)  # refuse what cannot be waited on, in the step that asked

    def on_last_step_finished(self, workchain: Any) -> None:
        workchain.insert_barrier(self.value)

    def on_next_step_starting(self, workchain: Any) -> None:
        value = self.value
        append = isinstance(value, _Append)
        if append:
            value = value.handle
        outputs = isinstance(value, Outputs)
        if outputs:
            value = value.handle
        node = value if isinstance(value, ProcessNode) else load_node(awaited_pid(value))
        result: Any = node.get_outputs_dict() if outputs else node
        if append:
            items = workchain.ctx.setdefault(self.key, [])
            if not isinstance(items, list):
                raise WaitError(
                    f"append_ to ctx.{self.key}, which holds {type(items).__name__}, not a list"
                )
            items.append(result)
        else:
            workchain.ctx[self.key] = result


def to_context(**kwargs: Any) -> list[UpdateContext]:
    """One ``UpdateContext`` per keyword; kept for code that inserts intersteps itself."""
    return [UpdateContext(key, value) for key, value in kwargs.items()]


class ToContext(dict[str, Any]):
    """Returned by a step: ``ToContext(key=handle, ...)`` awaits each handle into ``ctx.key``."""
