"""Process specifications: the inputs a process takes, the outputs it gives, its exit codes.

``ProcessSpec`` is what ``define`` fills in and the engine then reads; its parts each have
their own module: the ports (``actors.ports``), the names they may take (``actors.port_names``),
exit codes (``actors.exit_codes``), ports taken over from another process
(``actors.port_exposure``) and checking given inputs (``actors.input_validation``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from actors import port_exposure
from actors.attribute_dict import AttributeDict
from actors.errors import InputValidationError, OutputValidationError, SpecError
from actors.exit_codes import ExitCode, check_exit_code, declared_exit_code
from actors.input_validation import validate_namespace
from actors.nested import LINK_SEPARATOR
from actors.port_exposure import ExposureKey, as_process_class, class_key
from actors.port_names import (
    METADATA_FIELDS,
    METADATA_KEY,
    check_input_name,
    double_underscore,
    long_link_label,
    namespace_at,
    owned,
)
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

__all__ = [
    "METADATA_FIELDS",
    "METADATA_KEY",
    "ExitCode",
    "ProcessSpec",
    "SpecDefiner",
    "as_process_class",
    "check_exit_code",
    "class_key",
]


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
    exposed_inputs: dict[ExposureKey, Exposed] = field(default_factory=dict)
    exposed_outputs: dict[ExposureKey, Exposed] = field(default_factory=dict)
    retry_policy: RetryPolicy | None = None

    @property
    def dynamic_inputs(self) -> DynamicPorts:
        """Whether top-level inputs of any name are accepted."""
        return self.inputs.dynamic

    def _check_open(self) -> None:
        if self.sealed:
            raise SpecError("the spec is sealed: ports can only be added inside define()")

    def _where(self, what: str) -> str:
        return owned(self.owner, what)

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
        check_input_name(leaf, name, self.owner)
        if too_long := long_link_label("input", name):
            raise SpecError(self._where(too_long))
        namespace = namespace_at(self.inputs, namespace_path, self.owner, create=True)
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
        namespace = namespace_at(self.inputs, name, self.owner, create=True)
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
            raise SpecError(self._where(double_underscore("output", name)))
        if too_long := long_link_label("output", name):
            raise SpecError(self._where(too_long))
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
        self.exit_codes[label] = declared_exit_code(
            status, label, message, self.exit_codes.values()
        )

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
        port_exposure.expose(
            self, child, process_class, namespace, include=include, exclude=exclude, what="inputs"
        )

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
        port_exposure.expose(
            self, child, process_class, namespace, include=include, exclude=exclude, what="outputs"
        )

    def exposed(
        self,
        table: dict[ExposureKey, Exposed],
        process_class: Any,
        namespace: str | None,
        what: str,
    ) -> Exposed:
        """What ``expose_inputs``/``expose_outputs`` recorded for ``process_class``.

        Raises:
            SpecError: if it was not exposed there.
        """
        return port_exposure.recorded_exposure(table, process_class, namespace, what, self.owner)

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
        if port is None and (too_long := long_link_label("output", name)):
            raise OutputValidationError(f"{owner} emitted an {too_long}")
        valid_type = port.valid_type if port is not None else self.dynamic_outputs.valid_type
        if problem := type_problem(name, value, valid_type, f"{owner} output"):
            raise OutputValidationError(problem)

    def missing_outputs(self, emitted: Mapping[str, Any]) -> list[str]:
        """Required outputs not in ``emitted``."""
        return [
            name for name, port in self.outputs.items() if port.required and name not in emitted
        ]


def _spec_of(process_class: Any, where: str) -> ProcessSpec:
    """The spec of the process class whose ports are exposed.

    Raises:
        SpecError: if ``process_class`` is not a process class.
    """
    spec_of = getattr(process_class, "spec", None)
    spec = spec_of() if callable(spec_of) else None
    if not isinstance(spec, ProcessSpec):
        raise SpecError(f"{where}: {process_class!r} is not a process class")
    return spec


SpecDefiner = Callable[[ProcessSpec], None]
