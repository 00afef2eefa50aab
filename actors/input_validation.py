"""Checking the inputs given to a process against its spec's ports, in one pass that
gathers every problem (``ProcessSpec.validate_inputs`` raises them together)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actors.attribute_dict import FrozenAttributeDict
from actors.port_names import long_link_label
from actors.ports import (
    NO_DEFAULT,
    DynamicPorts,
    InputNamespace,
    InputPort,
    type_names,
    type_problem,
)
from provenance.data import Data


def _serialize(port: InputPort, value: Any, path: str, problems: list[str]) -> Any:
    if port.serializer is None or isinstance(value, Data) or value is None:
        return value
    try:
        serialized = port.serializer(value)
    except Exception as exc:  # a user's serializer may fail any way: say where
        problems.append(f"input {path!r}: its serializer refused {value!r}: {exc}")
        return NO_DEFAULT
    if not isinstance(serialized, Data):
        problems.append(
            f"input {path!r}: its serializer turned {value!r} into "
            f"{type(serialized).__name__}, not a data node"
        )
        return NO_DEFAULT
    return serialized


def _validate_dynamic(
    namespace: InputNamespace | DynamicPorts, path: str, value: Any, problems: list[str]
) -> Any:
    """A value under a name a dynamic namespace does not declare; dicts nest."""
    dynamic = namespace.dynamic if isinstance(namespace, InputNamespace) else namespace
    if isinstance(value, Mapping):
        nested: dict[str, Any] = {}
        for name, item in value.items():
            checked = _validate_dynamic(dynamic, f"{path}.{name}", item, problems)
            if checked is not NO_DEFAULT:
                nested[name] = checked
        return FrozenAttributeDict(nested)
    problem = long_link_label("input", path) or type_problem(
        path, value, dynamic.valid_type, "input"
    )
    if problem:
        problems.append(problem)
        return NO_DEFAULT
    return value


def validate_namespace(
    namespace: InputNamespace, given: Mapping[str, Any], problems: list[str], owner: str
) -> dict[str, Any]:
    result = _validate_given(namespace, given, problems, owner)
    _fill_missing(namespace, given, result, problems, owner)
    return result


def _validate_given(
    namespace: InputNamespace, given: Mapping[str, Any], problems: list[str], owner: str
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in given.items():
        path = namespace.child_path(name)
        port = namespace.get(name)
        if port is None:
            if not namespace.dynamic.enabled:
                known = ", ".join(sorted(namespace)) or "none"
                where = f"namespace {namespace.path!r}" if namespace.path else owner
                problems.append(f"unknown input {path!r} (inputs of {where}: {known})")
                continue
            checked = _validate_dynamic(namespace, path, value, problems)
        elif isinstance(port, InputNamespace):
            if not isinstance(value, Mapping) or isinstance(value, Data):
                problems.append(
                    f"input {path!r} is a namespace: give a dict of its inputs, got "
                    f"{type(value).__name__} {value!r}"
                )
                continue
            checked = FrozenAttributeDict(validate_namespace(port, value, problems, owner))
        elif value is None and not port.required:
            continue
        else:
            checked = _serialize(port, value, path, problems)
            if checked is not NO_DEFAULT:
                problem = type_problem(path, checked, port.valid_type, "input")
                if problem:
                    problems.append(problem)
                    checked = NO_DEFAULT
        if checked is not NO_DEFAULT:
            result[name] = checked
    return result


def _fill_missing(
    namespace: InputNamespace,
    given: Mapping[str, Any],
    result: dict[str, Any],
    problems: list[str],
    owner: str,
) -> None:
    for name, port in namespace.items():
        if name in given:
            continue
        path = namespace.child_path(name)
        if isinstance(port, InputNamespace):
            if port.required or _has_defaults(port):
                result[name] = FrozenAttributeDict(validate_namespace(port, {}, problems, owner))
        elif port.has_default:
            value = _serialize(port, port.default_value(), path, problems)
            if value is not NO_DEFAULT:
                result[name] = value
        elif port.required:
            problems.append(
                f"required input {path!r} ({type_names(port.valid_type)}) is missing"
                + (f": {port.help}" if port.help else "")
            )


def _has_defaults(namespace: InputNamespace) -> bool:
    return any(
        _has_defaults(port) if isinstance(port, InputNamespace) else port.has_default
        for port in namespace.values()
    )
