"""Workflow parameters: plain values become the data nodes stored as the workflow's inputs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from actors.errors import InputValidationError
from provenance.data import Bool, Data, Dict, Float, Int, List, Str

#: Plain parameter values and the data node each is stored as (bool before int: it is one).
_WRAPPERS: tuple[tuple[type | tuple[type, ...], Callable[[Any], Data]], ...] = (
    (bool, Bool),
    (int, Int),
    (float, Float),
    (str, Str),
    ((list, tuple), lambda value: List(list(value))),
    (Mapping, lambda value: Dict(dict(value))),
)


def parameter_nodes(params: Mapping[Any, Any], owner: str) -> dict[str, Data]:
    """The data node of each parameter: nodes as they are, plain values wrapped.

    Raises:
        InputValidationError: naming every parameter that cannot be stored (nothing is stored).
    """
    nodes: dict[str, Data] = {}
    problems: list[str] = []
    for name, value in params.items():
        if not isinstance(name, str):
            problems.append(f"parameter name {name!r} is not a str")
            continue
        if isinstance(value, Data):
            nodes[name] = value
            continue
        wrap = next((wrap for kind, wrap in _WRAPPERS if isinstance(value, kind)), None)
        if wrap is None:
            problems.append(
                f"parameter {name!r} is {type(value).__name__} {value!r:.60}: pass a data node "
                "or a bool, int, float, str, list or dict"
            )
            continue
        try:
            nodes[name] = wrap(value)
        except (TypeError, ValueError) as exc:
            problems.append(f"parameter {name!r}: {exc}")
    if problems:
        raise InputValidationError(f"invalid params for {owner}: " + "; ".join(problems))
    return nodes
