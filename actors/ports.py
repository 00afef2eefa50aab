"""The ports of a process specification: named inputs, namespaces of them, outputs, and the
message that says a value does not fit a port's type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from provenance.data import Data

TypeSpec = type | tuple[type, ...] | None

NO_DEFAULT: Any = object()


def type_names(valid_type: TypeSpec) -> str:
    if valid_type is None:
        return "any data node"
    types = valid_type if isinstance(valid_type, tuple) else (valid_type,)
    return " or ".join(t.__name__ for t in types)


_NODE_FOR_PYTHON_TYPE = {
    bool: "Bool",
    int: "Int",
    float: "Float",
    str: "Str",
    list: "List",
    tuple: "List",
    dict: "Dict",
}


def _wrap_hint(value: Any) -> str:
    node_class = _NODE_FOR_PYTHON_TYPE.get(type(value))
    if node_class is None:
        return "; pass a data node (Int, Float, Str, Bool, List, Dict, ...)"
    return f"; wrap plain values in a data node: {node_class}({value!r})"


def type_problem(name: str, value: Any, valid_type: TypeSpec, what: str) -> str | None:
    if valid_type is None:
        if isinstance(value, Data):
            return None
        return f"{what} {name!r} must be a data node, got {type(value).__name__} {value!r}" + (
            _wrap_hint(value)
        )
    if isinstance(value, valid_type):
        return None
    hint = "" if isinstance(value, Data) else _wrap_hint(value)
    return (
        f"{what} {name!r} must be {type_names(valid_type)}, got {type(value).__name__} "
        f"{value!r}{hint}"
    )


@dataclass(frozen=True, slots=True)
class InputPort:
    """One named input."""

    name: str
    valid_type: TypeSpec = None
    default: Any = NO_DEFAULT
    required: bool = True
    help: str = ""
    #: Turns a plain value given (or defaulted) for this port into a data node.
    serializer: Callable[[Any], Any] | None = None

    @property
    def has_default(self) -> bool:
        """True if the port fills itself when the input is not given."""
        return self.default is not NO_DEFAULT

    def default_value(self) -> Any:
        """The default for one process: a factory is called, a node is cloned.

        A default node is shared by every process of the class, and possibly by several
        runtimes with different databases, so each process gets its own copy.
        """
        default = self.default
        if isinstance(default, Data):
            return default.clone()
        return default() if callable(default) else default


class InputNamespace(dict[str, "InputPort | InputNamespace"]):
    """A group of inputs given as one nested dict: ``spec.inputs["relax"]["scf"]``.

    ``dynamic`` namespaces also take names they do not declare (of ``valid_type`` if given),
    nested dicts included. A namespace that is not ``required`` may be left out entirely.
    """

    def __init__(
        self,
        path: str = "",
        *,
        dynamic: bool = False,
        valid_type: TypeSpec = None,
        help: str = "",
        required: bool = True,
    ) -> None:
        super().__init__()
        self.path = path
        self.dynamic = DynamicPorts(dynamic, valid_type)
        self.help = help
        self.required = required

    def child_path(self, name: str) -> str:
        """The dotted path of ``name`` inside this namespace."""
        return f"{self.path}.{name}" if self.path else name

    def copy_into(self, path: str) -> InputNamespace:
        """A deep copy of this namespace, placed at ``path``."""
        copy = InputNamespace(
            path,
            dynamic=self.dynamic.enabled,
            valid_type=self.dynamic.valid_type,
            help=self.help,
            required=self.required,
        )
        for name, port in self.items():
            sub_path = f"{path}.{name}" if path else name
            copy[name] = port.copy_into(sub_path) if isinstance(port, InputNamespace) else port
        return copy


@dataclass(frozen=True, slots=True)
class OutputPort:
    """One named output; a name with dots lives in an output namespace."""

    name: str
    valid_type: TypeSpec = None
    required: bool = True
    help: str = ""


@dataclass(slots=True)
class DynamicPorts:
    """Whether names outside the spec are accepted, and of which type."""

    enabled: bool = False
    valid_type: TypeSpec = None


@dataclass(frozen=True, slots=True)
class Exposed:
    """Which ports of ``process_class`` a spec exposed, and where."""

    process_class: type[Any]
    namespace: str | None
    names: tuple[str, ...]
