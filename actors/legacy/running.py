"""``RunningInfo``: a pid and what kind of thing runs under it, for ``ToContext`` to await.

The old engine told processes, legacy calculations and legacy workflows apart; here all three
are processes whose termination the registry publishes, so a work chain awaits a ``RunningInfo``
by its ``pid`` like any child: ``return ToContext(eos=legacy_workflow(wf.pk))``.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

from provenance.backend import get_backend
from provenance.errors import NotExistentError
from provenance.nodes import Node, load_node
from provenance.process_nodes import ProcessNode
from provenance.workflow_nodes import LegacyWorkflowNode


class RunningType(enum.Enum):
    """What kind of object runs under a pid: a process, a calculation or a workflow."""

    PROCESS = 0
    LEGACY_CALC = 1
    LEGACY_WORKFLOW = 2


class RunningInfo(NamedTuple):
    """A running object: its kind and its pid (the pk of its node)."""

    type: RunningType
    pid: int


def legacy_calc(pk: int) -> RunningInfo:
    """The ``RunningInfo`` of the calculation (any process but a legacy workflow) ``pk``.

    Raises:
        TypeError: if ``pk`` is not an int.
        ValueError: if ``pk`` is not positive, or names a legacy workflow or a data node.
        NotExistentError: if no node has that pk.
    """
    node = _load(pk, "legacy_calc", "calculation")
    if isinstance(node, LegacyWorkflowNode):
        raise ValueError(
            f"legacy_calc({pk}): node {pk} is a legacy workflow, not a calculation; "
            f"use legacy_workflow({pk})"
        )
    if not isinstance(node, ProcessNode):
        raise ValueError(
            f"legacy_calc({pk}): node {pk} is a {type(node).__name__} data node, not a "
            "calculation; pass the pk of a process node"
        )
    return RunningInfo(RunningType.LEGACY_CALC, pk)


def legacy_workflow(pk: int) -> RunningInfo:
    """The ``RunningInfo`` of the legacy workflow ``pk`` (``wf.pk`` after ``wf.start()``).

    Raises:
        TypeError: if ``pk`` is not an int.
        ValueError: if ``pk`` is not positive, or names a node that is not a legacy workflow.
        NotExistentError: if no node has that pk.
    """
    node = _load(pk, "legacy_workflow", "workflow")
    if not isinstance(node, LegacyWorkflowNode):
        hint = f"; use legacy_calc({pk})" if isinstance(node, ProcessNode) else ""
        raise ValueError(
            f"legacy_workflow({pk}): node {pk} is a {type(node).__name__}, not a legacy "
            f"workflow{hint}"
        )
    return RunningInfo(RunningType.LEGACY_WORKFLOW, pk)


def _load(pk: object, function: str, kind: str) -> Node:
    """Check that ``pk`` is a pk and load its node, waiting for pending writes if needed.

    A process launched a moment ago has its pk before its node is committed, so a miss is
    retried once after the provenance actor committed what it holds.
    """
    if pk is None:
        raise TypeError(
            f"{function}(None): the {kind} has no pk yet; start it first, then pass its pk"
        )
    if isinstance(pk, bool) or not isinstance(pk, int):
        raise TypeError(f"{function} takes the pk of the {kind}, an int; got {pk!r}")
    if pk <= 0:
        raise ValueError(f"{function}({pk}): pks are positive ints, starting at 1")
    try:
        return load_node(pk)
    except NotExistentError:
        get_backend().sync()
    try:
        return load_node(pk)
    except NotExistentError as exc:
        raise NotExistentError(f"{function}({pk}): {exc}") from exc


__all__ = ["RunningInfo", "RunningType", "legacy_calc", "legacy_workflow"]
