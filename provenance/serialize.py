"""``to_node``: the serializer a port declares so users may pass plain Python values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from provenance.data import Bool, Data, Dict, Float, Int, List, Str
from provenance.errors import InvalidValueError

_NODE_TYPES: tuple[tuple[type | tuple[type, ...], Callable[[Any], Data]], ...] = (
    (bool, Bool),
    (int, Int),
    (float, Float),
    (str, Str),
    ((list, tuple), List),
    (dict, Dict),
)


def to_node(value: Any) -> Data:
    """``value`` as a new data node: bool, int, float, str, list/tuple and dict become Bool,
    Int, Float, Str, List and Dict; a data node is returned as it is.

    Raises:
        InvalidValueError: for any other type, naming it.
    """
    if isinstance(value, Data):
        return value
    # bool before int: a bool is an int.
    for python_type, node_type in _NODE_TYPES:
        if isinstance(value, python_type):
            return node_type(list(value) if isinstance(value, tuple) else value)
    raise InvalidValueError(
        f"to_node cannot store a {type(value).__name__} ({value!r}): give a bool, int, float, "
        "str, list, tuple or dict, or a data node"
    )
