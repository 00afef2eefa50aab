"""Checks on how a process is launched: attributes given with ``run`` and where ``submit`` is
called from. They run before anything is stored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actors import call_stack
from actors.errors import ActorError
from actors.holders import HOLDER
from actors.reattach import CALL_KEY
from provenance.workflow_nodes import LEGACY_STATE_ATTRIBUTE

#: Attributes of a process node that the engine sets and reads itself: ``_attributes`` given
#: to ``run`` may not replace them.
ENGINE_ATTRIBUTES = frozenset(
    {
        "process_state",
        "process_label",
        "process_class",
        "exit_status",
        "exit_message",
        "exception",
        "paused",
        HOLDER,
        CALL_KEY,
        LEGACY_STATE_ATTRIBUTE,
    }
)


def user_attributes(attributes: Any, owner: str, *, is_workfunction: bool) -> dict[str, Any]:
    """The ``_attributes`` of a launch as a dict to store on the process node.

    Raises:
        TypeError: if they are not a mapping of str keys, or given for a workfunction (the
            seed: "only for process").
        ActorError: if a key is one the engine sets itself.
    """
    if attributes is None:
        return {}
    if is_workfunction:
        raise TypeError(
            f"_attributes are stored on the node of a Process class only; {owner} is a "
            "workfunction, whose arguments are all inputs"
        )
    if not isinstance(attributes, Mapping) or not all(isinstance(k, str) for k in attributes):
        raise TypeError(
            f"_attributes of {owner} must be a dict with str keys, got {attributes!r:.80}"
        )
    taken = sorted(ENGINE_ATTRIBUTES & set(attributes))
    if taken:
        raise ActorError(
            f"_attributes of {owner}: {', '.join(taken)} is set by the engine itself; "
            "choose another name"
        )
    return dict(attributes)


def refuse_inside_step(verb: str) -> None:
    """Refuse a launch that would orphan its process: one from inside a step.

    Raises:
        ActorError: naming the running process and pointing at ``self.submit``.
    """
    frame = call_stack.current()
    if frame is None:
        return
    process = frame.process
    raise ActorError(
        f"{verb}() was called inside a step of {process.process_label()} (pid {process.pid}): "
        "the new process would run unlinked (no CALL link) and nobody would wait for it. In a "
        "work chain use self.submit(...) and await it with ToContext / self.to_context; "
        "elsewhere call the workfunction or run(...) blockingly"
    )


__all__ = ["ENGINE_ATTRIBUTES", "refuse_inside_step", "user_attributes"]
