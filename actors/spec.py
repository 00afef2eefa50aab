"""Process specifications: the inputs a process takes, the outputs it gives, its exit codes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

from actors.attribute_dict import AttributeDict
from actors.errors import InputValidationError, OutputValidationError, SpecError
from provenance.data import Data
from provenance.values import INT_MAX

TypeSpec = type | tuple[type, ...] | None

_NO_DEFAULT: Any = object()


class ExitCode(NamedTuple):
    """What a process ends with: status 0 is success; anything else a handled failure."""

    status: int = 0
    label: str = ""
    message: str = ""


def check_exit_code(exit_code: ExitCode, owner: str) -> ExitCode:
    """Hold an exit code a process ended with to the rules ``spec.exit_code`` declares by.

    Status 0 is success and says nothing more; any other status is a positive int that the
    database stores (64 bits), so a process never ends with a status nobody can record.

    Raises:
        SpecError: naming what ``owner`` returned and what is allowed.
    """
    # Typed as int and str, but built by user code: anything may come.
    status, label, message = cast(tuple[Any, Any, Any], exit_code)
    problem = None
    if not isinstance(status, int) or isinstance(status, bool):
        problem = f"its status {status!r} is not an int"
    elif not 0 <= status <= INT_MAX:
        problem = (
            f"its status {status} is outside 0..{INT_MAX} (not negative, at most 64 bits, "
            "what the database stores)"
        )
    elif not isinstance(label, str) or not isinstance(message, str):
        problem = "its label and message must be strings"
    elif status == 0 and message:
        problem = "status 0 means success and carries no message"
    if problem is None:
        return exit_code
    raise SpecError(
        f"{owner} returned {exit_code!r}, which is not a valid exit code: {problem}. Return "
        "None for success, or a failure declared with spec.exit_code(status, LABEL, message) "
        "as self.exit_codes.LABEL"
    )


def _type_names(valid_type: TypeSpec) -> str:
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


def _type_problem(name: str, value: Any, valid_type: TypeSpec, what: str) -> str | None:
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
        f"{what} {name!r} must be {_type_names(valid_type)}, got {type(value).__name__} "
        f"{value!r}{hint}"
    )


@dataclass(frozen=True, slots=True)
class InputPort:
    """One named input."""

    name: str
    valid_type: TypeSpec = None
    default: Any = _NO_DEFAULT
    required: bool = True
    help: str = ""

    @property
    def has_default(self) -> bool:
        """True if the port fills itself when the input is not given."""
        return self.default is not _NO_DEFAULT

    def default_value(self) -> Any:
        """The default for one process: a factory is called, a node is cloned.

        A default node is shared by every process of the class, and possibly by several
        runtimes with different databases, so each process gets its own copy.
        """
        default = self.default
        if isinstance(default, Data):
            return default.clone()
        return default() if callable(default) else default


@dataclass(frozen=True, slots=True)
class OutputPort:
    """One named output."""

    name: str
    valid_type: TypeSpec = None
    required: bool = True
    help: str = ""


@dataclass(slots=True)
class DynamicPorts:
    """Whether names outside the spec are accepted, and of which type."""

    enabled: bool = False
    valid_type: TypeSpec = None


@dataclass
class ProcessSpec:
    """Built once per process class by ``define``; then sealed."""

    inputs: dict[str, InputPort] = field(default_factory=dict)
    outputs: dict[str, OutputPort] = field(default_factory=dict)
    dynamic_inputs: DynamicPorts = field(default_factory=DynamicPorts)
    dynamic_outputs: DynamicPorts = field(default_factory=DynamicPorts)
    exit_codes: AttributeDict = field(default_factory=AttributeDict)
    sealed: bool = False

    def _check_open(self) -> None:
        if self.sealed:
            raise SpecError("the spec is sealed: ports can only be added inside define()")

    def input(
        self,
        name: str,
        valid_type: TypeSpec = None,
        default: Any = _NO_DEFAULT,
        required: bool = True,
        help: str = "",
    ) -> None:
        """Declare an input port; one with a default is never missing."""
        self._check_open()
        if not name.isidentifier():
            raise SpecError(f"input name {name!r} is not a valid Python identifier")
        if (
            isinstance(default, Data)
            and valid_type is not None
            and not isinstance(default, valid_type)
        ):
            raise SpecError(
                f"default of input {name!r} is {default!r}, not {_type_names(valid_type)}"
            )
        self.inputs[name] = InputPort(name, valid_type, default, required, help)

    def output(
        self,
        name: str,
        valid_type: TypeSpec = None,
        required: bool = True,
        help: str = "",
    ) -> None:
        """Declare an output port."""
        self._check_open()
        self.outputs[name] = OutputPort(name, valid_type, required, help)

    def dynamic_input(self, valid_type: TypeSpec = None) -> None:
        """Accept inputs of any name (of ``valid_type`` if given)."""
        self._check_open()
        self.dynamic_inputs = DynamicPorts(True, valid_type)

    def dynamic_output(self, valid_type: TypeSpec = None) -> None:
        """Accept outputs of any name (of ``valid_type`` if given)."""
        self._check_open()
        self.dynamic_outputs = DynamicPorts(True, valid_type)

    def exit_code(self, status: int, label: str, message: str = "") -> None:
        """Declare a handled failure: ``self.exit_codes.LABEL`` returns it from a step."""
        self._check_open()
        if not isinstance(status, int) or isinstance(status, bool) or not 0 < status <= INT_MAX:
            raise SpecError(
                f"exit code {label!r} needs a positive int status of at most {INT_MAX} "
                f"(64 bits), got {status!r}"
            )
        for known in self.exit_codes.values():
            if known.status == status and known.label != label:
                raise SpecError(f"exit status {status} is used by both {known.label} and {label}")
        self.exit_codes[label] = ExitCode(status, label, message)

    def validate_inputs(self, inputs: Mapping[str, Any], owner: str) -> dict[str, Any]:
        """Check ``inputs`` and fill defaults.

        Raises:
            InputValidationError: naming every problem at once.
        """
        problems: list[str] = []
        result: dict[str, Any] = {}
        for name, value in inputs.items():
            port = self.inputs.get(name)
            if port is None:
                if not self.dynamic_inputs.enabled:
                    known = ", ".join(sorted(self.inputs)) or "none"
                    problems.append(f"unknown input {name!r} (inputs of {owner}: {known})")
                    continue
                problem = _type_problem(name, value, self.dynamic_inputs.valid_type, "input")
            elif value is None and not port.required:
                continue
            else:
                problem = _type_problem(name, value, port.valid_type, "input")
            if problem:
                problems.append(problem)
            else:
                result[name] = value
        for name, port in self.inputs.items():
            if name in inputs:
                continue
            if port.has_default:
                result[name] = port.default_value()
            elif port.required:
                problems.append(
                    f"required input {name!r} ({_type_names(port.valid_type)}) is missing"
                    + (f": {port.help}" if port.help else "")
                )
        if problems:
            raise InputValidationError(f"invalid inputs for {owner}: " + "; ".join(problems))
        return result

    def validate_output(self, name: str, value: Any, owner: str) -> None:
        """Check one output as it is emitted.

        Raises:
            OutputValidationError: if the name or type is not allowed.
        """
        port = self.outputs.get(name)
        if port is None and not self.dynamic_outputs.enabled:
            known = ", ".join(sorted(self.outputs)) or "none"
            raise OutputValidationError(
                f"{owner} emitted output {name!r}, which its spec does not declare "
                f"(outputs: {known}); add spec.output({name!r}, ...) or spec.dynamic_output()"
            )
        valid_type = port.valid_type if port is not None else self.dynamic_outputs.valid_type
        if problem := _type_problem(name, value, valid_type, f"{owner} output"):
            raise OutputValidationError(problem)

    def missing_outputs(self, emitted: Mapping[str, Any]) -> list[str]:
        """Required outputs not in ``emitted``."""
        return [
            name for name, port in self.outputs.items() if port.required and name not in emitted
        ]


SpecDefiner = Callable[[ProcessSpec], None]
