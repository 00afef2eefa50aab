"""Process specifications: the inputs a process takes, the outputs it gives, its exit codes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

from actors.attribute_dict import AttributeDict
from actors.errors import InputValidationError, OutputValidationError, SpecError
from actors.input_validation import validate_namespace
from actors.nested import LINK_SEPARATOR
from actors.ports import (
    NO_DEFAULT,
    DynamicPorts,
    Exposed,
    InputNamespace,
    InputPort,
    OutputPort,
    TypeSpec,
    type_names,
    type_problem,
)
from actors.retry import Backoff, RetryPolicy
from provenance.data import Data
from provenance.values import INT_MAX


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


#: Launch options that are not inputs: they label the process node, no link is made.
METADATA_KEY = "metadata"
METADATA_FIELDS = ("label", "description")


def _select(names: list[str], include: Any, exclude: Any, where: str) -> list[str]:
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


@dataclass
class ProcessSpec:
    """Built once per process class by ``define``; then sealed."""

    inputs: InputNamespace = field(default_factory=InputNamespace)
    outputs: dict[str, OutputPort] = field(default_factory=dict)
    dynamic_outputs: DynamicPorts = field(default_factory=DynamicPorts)
    exit_codes: AttributeDict = field(default_factory=AttributeDict)
    sealed: bool = False
    #: The class being defined, named in the errors of ``define``.
    owner: str = ""
    exposed_inputs: dict[tuple[str, str | None], Exposed] = field(default_factory=dict)
    exposed_outputs: dict[tuple[str, str | None], Exposed] = field(default_factory=dict)
    retry_policy: RetryPolicy | None = None

    @property
    def dynamic_inputs(self) -> DynamicPorts:
        """Whether top-level inputs of any name are accepted."""
        return self.inputs.dynamic

    def _check_open(self) -> None:
        if self.sealed:
            raise SpecError("the spec is sealed: ports can only be added inside define()")

    def _where(self, what: str) -> str:
        return f"{self.owner}: {what}" if self.owner else what

    def _namespace_at(self, path: str, create: bool) -> InputNamespace:
        """The input namespace at dotted ``path`` ("" is the top), made if ``create``."""
        namespace = self.inputs
        if not path:
            return namespace
        for part in path.split("."):
            self._check_name(part, path)
            found = namespace.get(part)
            if found is None:
                if not create:
                    raise SpecError(self._where(f"no input namespace {path!r}"))
                found = namespace[part] = InputNamespace(namespace.child_path(part))
            if not isinstance(found, InputNamespace):
                raise SpecError(
                    self._where(
                        f"input namespace {path!r} clashes with input port "
                        f"{namespace.child_path(part)!r}"
                    )
                )
            namespace = found
        return namespace

    def _check_name(self, part: str, path: str) -> None:
        if not part.isidentifier():
            raise SpecError(
                self._where(f"input name {path!r} is not a valid Python identifier")
                + (" (dots separate namespaces)" if "." in path else "")
            )
        if LINK_SEPARATOR in part:
            raise SpecError(self._where(_double_underscore("input", path)))
        if part == METADATA_KEY and path == part:
            raise SpecError(
                self._where("'metadata' is not an input: it holds a launch's label and description")
            )

    def input(
        self,
        name: str,
        valid_type: TypeSpec = None,
        default: Any = NO_DEFAULT,
        required: bool = True,
        help: str = "",
        *,
        serializer: Callable[[Any], Any] | None = None,
    ) -> None:
        """Declare an input port; ``"a.b.c"`` declares ``c`` in namespace ``a.b`` (made if
        needed). One with a default is never missing; a default may be a factory."""
        self._check_open()
        namespace_path, _, leaf = name.rpartition(".")
        self._check_name(leaf, name)
        namespace = self._namespace_at(namespace_path, create=True)
        if isinstance(namespace.get(leaf), InputNamespace):
            raise SpecError(self._where(f"input {name!r} clashes with the namespace {name!r}"))
        if serializer is not None and not callable(serializer):
            raise SpecError(self._where(f"serializer of input {name!r} is not callable"))
        plain_default = default is not NO_DEFAULT and not callable(default)
        if serializer is not None and plain_default and not isinstance(default, Data):
            serialized = serializer(default)
            if not isinstance(serialized, Data):
                raise SpecError(
                    self._where(
                        f"serializer of input {name!r} turned the default {default!r} into "
                        f"{type(serialized).__name__} {serialized!r}, not a data node"
                    )
                )
        if (
            isinstance(default, Data)
            and valid_type is not None
            and not isinstance(default, valid_type)
        ):
            raise SpecError(
                self._where(
                    f"default of input {name!r} is {default!r}, not {type_names(valid_type)}"
                )
            )
        namespace[leaf] = InputPort(leaf, valid_type, default, required, help, serializer)

    def input_namespace(
        self,
        name: str,
        dynamic: bool = False,
        valid_type: TypeSpec = None,
        help: str = "",
        required: bool = True,
    ) -> InputNamespace:
        """Declare (or reopen) the input namespace ``name`` (dotted for nested ones)."""
        self._check_open()
        namespace = self._namespace_at(name, create=True)
        namespace.dynamic = DynamicPorts(dynamic or namespace.dynamic.enabled, valid_type)
        namespace.help = help or namespace.help
        namespace.required = required
        return namespace

    def output(
        self,
        name: str,
        valid_type: TypeSpec = None,
        required: bool = True,
        help: str = "",
    ) -> None:
        """Declare an output port; ``"scf.energy"`` is ``energy`` in output namespace ``scf``."""
        self._check_open()
        if LINK_SEPARATOR in name:
            raise SpecError(self._where(_double_underscore("output", name)))
        self.outputs[name] = OutputPort(name, valid_type, required, help)

    def dynamic_input(self, valid_type: TypeSpec = None) -> None:
        """Accept inputs of any name (of ``valid_type`` if given)."""
        self._check_open()
        self.inputs.dynamic = DynamicPorts(True, valid_type)

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

    def retry(
        self,
        max_attempts: int = 3,
        on: type[Exception] | tuple[type[Exception], ...] = (Exception,),
        backoff: Backoff = 0.0,
    ) -> None:
        """Run ``run`` again when it raises one of ``on``, up to ``max_attempts`` times in all,
        waiting ``backoff`` seconds (or ``backoff(attempt)``) in between."""
        self._check_open()
        self.retry_policy = RetryPolicy.checked(max_attempts, on, backoff, self.owner)

    # Exposing the ports of another process.

    def expose_inputs(
        self,
        process_class: Any,
        namespace: str | None = None,
        include: Any = None,
        exclude: Any = None,
    ) -> None:
        """Take over the inputs of ``process_class`` (into ``namespace`` if given), so a
        caller can pass them on with ``self.exposed_inputs(process_class, namespace)``."""
        self._check_open()
        process_class = as_process_class(process_class)
        child = _spec_of(process_class, self._where("expose_inputs"))
        key = (class_key(process_class), namespace)
        where = self._where(f"expose_inputs({process_class.__name__}, namespace={namespace!r})")
        if key in self.exposed_inputs:
            raise SpecError(f"{where}: these inputs are exposed twice")
        names = _select(list(child.inputs), include, exclude, where)
        target = self._namespace_at(namespace or "", create=True)
        for name in names:
            path = target.child_path(name)
            if name in target:
                raise SpecError(
                    f"{where}: input {path!r} is already declared; exclude it or expose "
                    "into another namespace"
                )
            port = child.inputs[name]
            target[name] = port.copy_into(path) if isinstance(port, InputNamespace) else port
        if namespace and child.inputs.dynamic.enabled:
            target.dynamic = DynamicPorts(True, child.inputs.dynamic.valid_type)
        self.exposed_inputs[key] = Exposed(process_class, namespace, tuple(names))

    def expose_outputs(
        self,
        process_class: Any,
        namespace: str | None = None,
        include: Any = None,
        exclude: Any = None,
    ) -> None:
        """Declare the outputs of ``process_class`` as this process's own (in ``namespace``),
        for ``self.out_many(self.exposed_outputs(node, process_class, namespace))``."""
        self._check_open()
        process_class = as_process_class(process_class)
        child = _spec_of(process_class, self._where("expose_outputs"))
        key = (class_key(process_class), namespace)
        where = self._where(f"expose_outputs({process_class.__name__}, namespace={namespace!r})")
        if key in self.exposed_outputs:
            raise SpecError(f"{where}: these outputs are exposed twice")
        names = _select(list(child.outputs), include, exclude, where)
        for name in names:
            path = f"{namespace}.{name}" if namespace else name
            if path in self.outputs:
                raise SpecError(
                    f"{where}: output {path!r} is already declared; exclude it or expose "
                    "into another namespace"
                )
            port = child.outputs[name]
            self.outputs[path] = OutputPort(path, port.valid_type, port.required, port.help)
        if child.dynamic_outputs.enabled and not self.dynamic_outputs.enabled:
            self.dynamic_outputs = DynamicPorts(True, child.dynamic_outputs.valid_type)
        self.exposed_outputs[key] = Exposed(process_class, namespace, tuple(names))

    def exposed(
        self,
        table: dict[tuple[str, str | None], Exposed],
        process_class: Any,
        namespace: str | None,
        what: str,
    ) -> Exposed:
        """What ``expose_inputs``/``expose_outputs`` recorded for ``process_class``.

        Raises:
            SpecError: if it was not exposed there.
        """
        found = table.get((class_key(process_class), namespace))
        if found is None:
            known = ", ".join(
                f"{entry.process_class.__name__} in {entry.namespace!r}" for entry in table.values()
            )
            raise SpecError(
                self._where(
                    f"the {what} of {getattr(process_class, '__name__', process_class)} were not "
                    f"exposed in namespace {namespace!r} (exposed: {known or 'none'}); call "
                    f"spec.expose_{what}(...) in define()"
                )
            )
        return found

    # Validation.

    def validate_inputs(self, inputs: Mapping[str, Any], owner: str) -> dict[str, Any]:
        """Check ``inputs`` (namespaces as nested dicts), serialize and fill defaults.

        Raises:
            InputValidationError: naming every problem at once, by dotted path.
        """
        problems: list[str] = []
        result = validate_namespace(self.inputs, inputs, problems, owner)
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
        if problem := type_problem(name, value, valid_type, f"{owner} output"):
            raise OutputValidationError(problem)

    def missing_outputs(self, emitted: Mapping[str, Any]) -> list[str]:
        """Required outputs not in ``emitted``."""
        return [
            name for name, port in self.outputs.items() if port.required and name not in emitted
        ]


def as_process_class(process: Any) -> Any:
    """The process class of a workfunction (``add`` means ``add.process_class``), else
    ``process`` itself: ports are exposed from either."""
    return getattr(process, "process_class", process)


def class_key(process_class: Any) -> str:
    """How exposed ports remember the class they came from."""
    process_class = as_process_class(process_class)
    return f"{process_class.__module__}.{process_class.__qualname__}"


def _spec_of(process_class: Any, where: str) -> ProcessSpec:
    spec_of = getattr(process_class, "spec", None)
    spec = spec_of() if callable(spec_of) else None
    if not isinstance(spec, ProcessSpec):
        raise SpecError(f"{where}: {process_class!r} is not a process class")
    return spec


def _double_underscore(kind: str, name: str) -> str:
    return (
        f"{kind} name {name!r} holds {LINK_SEPARATOR!r}, which joins namespaces in link labels "
        f"('a.b' is stored as 'a{LINK_SEPARATOR}b'): the two would collide. Use a namespace "
        "('a.b') or a single underscore"
    )


SpecDefiner = Callable[[ProcessSpec], None]
