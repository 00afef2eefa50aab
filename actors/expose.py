"""Reading exposed ports back: the inputs a caller passes on to a child, and the outputs of a
finished child it re-emits (``spec.expose_inputs``/``spec.expose_outputs`` declare them).

With ``agglomerate`` (the default, as in aiida) a namespace also gathers what was exposed for the
same class in each namespace above it: ``"sub_2.sub_3"`` takes the top level's, then
``sub_2``'s, then its own, deeper ones winning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actors.attribute_dict import AttributeDict
from actors.nested import LINK_SEPARATOR, nest
from actors.ports import Exposed
from actors.spec import ProcessSpec
from provenance.process_nodes import ProcessNode


def _levels(namespace: str | None, agglomerate: bool) -> list[str | None]:
    if not agglomerate or not namespace:
        return [namespace]
    parts = namespace.split(".")
    return [None, *(".".join(parts[: index + 1]) for index in range(len(parts)))]


def _exposed(
    spec: ProcessSpec,
    table: dict[tuple[str, str | None], Exposed],
    process_class: Any,
    namespace: str | None,
    *,
    agglomerate: bool,
    what: str,
) -> list[Exposed]:
    """The exposures read, top level first; the one at ``namespace`` must exist."""
    exact = spec.exposed(table, process_class, namespace, what)
    found = []
    for level in _levels(namespace, agglomerate)[:-1]:
        entry = table.get((exact_key(exact), level))
        if entry is not None:
            found.append(entry)
    return [*found, exact]


def exact_key(exposed: Exposed) -> str:
    """The class key an exposure was recorded under."""
    process_class = exposed.process_class
    return f"{process_class.__module__}.{process_class.__qualname__}"


def _thawed(value: Any) -> Any:
    """An input value as a caller may change and pass on: namespaces become plain dicts."""
    if isinstance(value, Mapping):
        return AttributeDict({name: _thawed(item) for name, item in value.items()})
    return value


def exposed_inputs(
    spec: ProcessSpec,
    inputs: Mapping[str, Any],
    process_class: Any,
    namespace: str | None,
    agglomerate: bool,
) -> AttributeDict:
    """See ``Process.exposed_inputs``."""
    gathered = AttributeDict()
    table = spec.exposed_inputs
    entries = _exposed(
        spec, table, process_class, namespace, agglomerate=agglomerate, what="inputs"
    )
    for entry in entries:
        source: Mapping[str, Any] = inputs
        for part in entry.namespace.split(".") if entry.namespace else ():
            source = source.get(part) or {}
        gathered.update({name: _thawed(source[name]) for name in entry.names if name in source})
    return gathered


def exposed_outputs(
    spec: ProcessSpec,
    node: ProcessNode,
    process_class: Any,
    namespace: str | None,
    agglomerate: bool,
) -> AttributeDict:
    """See ``Process.exposed_outputs``."""
    produced = nest(node.get_outputs_dict(), LINK_SEPARATOR)
    chosen: dict[str, Any] = {}
    entries = _exposed(
        spec,
        spec.exposed_outputs,
        process_class,
        namespace,
        agglomerate=agglomerate,
        what="outputs",
    )
    for entry in entries:
        for name in entry.names:
            value: Any = produced
            for part in name.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            if value is not None:
                path = f"{entry.namespace}.{name}" if entry.namespace else name
                chosen[path] = value
    return AttributeDict(nest(chosen, "."))
