"""Nested inputs and outputs: namespaces are dicts in memory, dotted paths in specs and
``__``-joined labels on links (aiida's convention, so link labels stay identifiers)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from actors.attribute_dict import FrozenAttributeDict

#: Joins the parts of a dotted path in a link label: ``relax.scf.x`` is linked ``relax__scf__x``.
LINK_SEPARATOR = "__"


def leaves(mapping: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted path, value)`` for every value that is not itself a namespace (a mapping)."""
    for name, value in mapping.items():
        path = f"{prefix}.{name}" if prefix else name
        if isinstance(value, Mapping):
            yield from leaves(value, path)
        else:
            yield path, value


def link_label(path: str) -> str:
    """The link label of the port at dotted ``path``."""
    return path.replace(".", LINK_SEPARATOR)


def map_leaves(function: Callable[[Any], Any], mapping: Mapping[str, Any]) -> dict[str, Any]:
    """``mapping`` with ``function`` applied to every leaf; namespaces become plain dicts."""
    return {
        name: map_leaves(function, value) if isinstance(value, Mapping) else function(value)
        for name, value in mapping.items()
    }


def frozen(mapping: Mapping[str, Any]) -> FrozenAttributeDict:
    """``mapping`` with every namespace a ``FrozenAttributeDict`` (for ``self.inputs``)."""
    return FrozenAttributeDict(
        {
            name: frozen(value) if isinstance(value, Mapping) else value
            for name, value in mapping.items()
        }
    )


def nest(flat: Mapping[str, Any], separator: str) -> dict[str, Any]:
    """``{"a__b": x}`` as ``{"a": {"b": x}}`` (with ``separator`` ``"__"``)."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(separator)
        target = nested
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return nested
