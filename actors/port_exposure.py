"""Declaring the ports of another process as one's own: ``spec.expose_inputs`` and
``spec.expose_outputs``.

A work chain that launches a child takes the child's inputs (so its callers pass them through)
and gives its outputs (so they re-emit them) without declaring each again. What was exposed is
recorded per child class and namespace as an ``Exposed``, which ``actors.expose`` reads back
when the inputs are passed on and the outputs re-emitted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from actors.errors import SpecError
from actors.port_names import namespace_at, owned
from actors.ports import DynamicPorts, Exposed, InputNamespace, OutputPort

if TYPE_CHECKING:
    from actors.spec import ProcessSpec

#: ``(class_key, namespace)``: what an exposure is recorded under.
ExposureKey = tuple[str, str | None]
#: Which ports an exposure takes over.
PortKind = Literal["inputs", "outputs"]


def as_process_class(process: Any) -> Any:
    """The process class of a workfunction (``add`` means ``add.process_class``), else
    ``process`` itself: ports are exposed from either."""
    return getattr(process, "process_class", process)


def class_key(process_class: Any) -> str:
    """How exposed ports remember the class they came from."""
    process_class = as_process_class(process_class)
    return f"{process_class.__module__}.{process_class.__qualname__}"


def select_ports(names: list[str], include: Any, exclude: Any, where: str) -> list[str]:
    """The port ``names`` that ``include`` keeps, or that ``exclude`` leaves (all without either).

    Raises:
        SpecError: for both given, a str instead of a list, or a name that is not a port.
    """
    if include is not None and exclude is not None:
        raise SpecError(f"{where}: give include or exclude, not both")
    chosen = include if include is not None else exclude
    if chosen is not None:
        if isinstance(chosen, str):
            raise SpecError(f"{where}: include/exclude take a list of names, got {chosen!r}")
        unknown = sorted(set(chosen) - set(names))
        if unknown:
            raise SpecError(
                f"{where}: no port named {', '.join(map(repr, unknown))} "
                f"(ports: {', '.join(names) or 'none'})"
            )
    if include is not None:
        return [name for name in names if name in include]
    if exclude is not None:
        return [name for name in names if name not in exclude]
    return names


def expose(
    spec: ProcessSpec,
    child: ProcessSpec,
    process_class: Any,
    namespace: str | None,
    *,
    include: Any,
    exclude: Any,
    what: PortKind,
) -> None:
    """Declare the inputs or outputs (``what``) of ``child``, the spec of ``process_class``, as
    ``spec``'s own, under ``namespace`` if given, and record what was exposed.

    Raises:
        SpecError: for ports exposed twice, a bad include or exclude, or a port that ``spec``
            already declares.
    """
    table = spec.exposed_inputs if what == "inputs" else spec.exposed_outputs
    key = (class_key(process_class), namespace)
    where = owned(spec.owner, f"expose_{what}({process_class.__name__}, namespace={namespace!r})")
    if key in table:
        raise SpecError(f"{where}: these {what} are exposed twice")
    names = select_ports(
        list(child.inputs if what == "inputs" else child.outputs), include, exclude, where
    )
    if what == "inputs":
        _take_inputs(spec, child, names, namespace, where)
    else:
        _take_outputs(spec, child, names, namespace, where)
    table[key] = Exposed(process_class, namespace, tuple(names))


def _take_inputs(
    spec: ProcessSpec, child: ProcessSpec, names: list[str], namespace: str | None, where: str
) -> None:
    """Copy the inputs ``names`` of ``child`` into ``spec``, in ``namespace`` if given; a
    namespace also takes over the child's dynamic inputs."""
    target = namespace_at(spec.inputs, namespace or "", spec.owner, create=True)
    for name in names:
        path = target.child_path(name)
        if name in target:
            raise _declared_already(where, "input", path)
        port = child.inputs[name]
        target[name] = port.copy_into(path) if isinstance(port, InputNamespace) else port
    if namespace and child.inputs.dynamic.enabled:
        target.dynamic = DynamicPorts(True, child.inputs.dynamic.valid_type)


def _take_outputs(
    spec: ProcessSpec, child: ProcessSpec, names: list[str], namespace: str | None, where: str
) -> None:
    """Declare the outputs ``names`` of ``child`` in ``spec``, as ``namespace.name`` if given;
    dynamic outputs of the child make ``spec``'s dynamic too."""
    for name in names:
        path = f"{namespace}.{name}" if namespace else name
        if path in spec.outputs:
            raise _declared_already(where, "output", path)
        port = child.outputs[name]
        spec.outputs[path] = OutputPort(path, port.valid_type, port.required, port.help)
    if child.dynamic_outputs.enabled and not spec.dynamic_outputs.enabled:
        spec.dynamic_outputs = DynamicPorts(True, child.dynamic_outputs.valid_type)


def _declared_already(where: str, kind: str, path: str) -> SpecError:
    """The error for an exposed ``kind`` (input or output) port the spec already declares."""
    return SpecError(
        f"{where}: {kind} {path!r} is already declared; exclude it or expose into another namespace"
    )


def recorded_exposure(
    table: dict[ExposureKey, Exposed],
    process_class: Any,
    namespace: str | None,
    what: str,
    owner: str,
) -> Exposed:
    """What ``expose_inputs``/``expose_outputs`` (``what``) recorded for ``process_class``.

    Raises:
        SpecError: if it was not exposed there, naming what was.
    """
    found = table.get((class_key(process_class), namespace))
    if found is None:
        known = ", ".join(
            f"{entry.process_class.__name__} in {entry.namespace!r}" for entry in table.values()
        )
        raise SpecError(
            owned(
                owner,
                f"the {what} of {getattr(process_class, '__name__', process_class)} were not "
                f"exposed in namespace {namespace!r} (exposed: {known or 'none'}); call "
                f"spec.expose_{what}(...) in define()",
            )
        )
    return found
