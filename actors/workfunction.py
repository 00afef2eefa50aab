"""``@workfunction``: a function of data nodes run as a process with provenance."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol, cast

from actors.errors import InputValidationError, OutputValidationError
from actors.process import Process
from actors.spec import METADATA_KEY, ExitCode, ProcessSpec, check_exit_code
from actors.step_outcomes import StepDone, StepOutcome
from provenance.data import Data
from provenance.process_nodes import ProcessNode, WorkCalculation

RETURN_LABEL = "_return"


class FunctionProcess(Process):
    """The process of one decorated function; one subclass per function."""

    node_class = WorkCalculation
    func: ClassVar[Callable[..., Any]]
    signature: ClassVar[inspect.Signature]
    #: The parameter names, in order, when every parameter may be given by position (no
    #: ``*args``, ``**kwargs`` or keyword-only one); else None. A call giving each of them
    #: by position then binds without ``Signature.bind``, and the step calls the function
    #: without walking the signature again. Set by ``workfunction``, as ``func`` is.
    plain_parameters: ClassVar[tuple[str, ...] | None]

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """One port per named parameter; ``*args``/``**kwargs`` make inputs dynamic."""
        super().define(spec)
        for parameter in cls.signature.parameters.values():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                spec.dynamic_input(Data)
                continue
            default = parameter.default
            if default is parameter.empty:
                spec.input(parameter.name, valid_type=Data)
            elif isinstance(default, Data) or callable(default):
                # A node, or a factory of one (``x=lambda: Int(1)``, as aiida allows): the
                # default becomes an input of each call, a fresh node every time.
                spec.input(parameter.name, valid_type=Data, default=default, required=False)
            else:
                spec.input(parameter.name, valid_type=Data, required=False)
        spec.dynamic_output(Data)

    @classmethod
    def process_label(cls) -> str:
        """The function's name."""
        return cls.func.__name__

    @classmethod
    def class_path(cls) -> str:
        """Import path of the decorated function."""
        return f"{cls.func.__module__}.{cls.func.__qualname__}"

    @classmethod
    def args_to_inputs(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Map a call's arguments to input names; ``*args`` become ``<name>_0``, ``<name>_1``...

        Raises:
            InputValidationError: if the arguments do not fit the signature.
        """
        plain = cls.plain_parameters
        if not kwargs and plain is not None and len(args) == len(plain):
            # What ``bind`` gives for such a call, spared its generality.
            return dict(zip(plain, args, strict=True))
        metadata = kwargs.pop(METADATA_KEY, None)
        try:
            bound = cls.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise InputValidationError(
                f"workfunction {cls.process_label()}{cls.signature}: {exc}"
            ) from exc
        inputs: dict[str, Any] = {}
        for name, value in bound.arguments.items():
            kind = cls.signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_POSITIONAL:
                labels = {f"{name}_{index}": item for index, item in enumerate(value)}
                cls._refuse_label_clash(name, labels)
                inputs.update(labels)
            elif kind is inspect.Parameter.VAR_KEYWORD:
                clashes = set(value) & set(inputs)
                if clashes:
                    raise InputValidationError(
                        f"workfunction {cls.process_label()}: keyword {sorted(clashes)} clashes "
                        "with a positional argument label"
                    )
                inputs.update(value)
            else:
                inputs[name] = value
        if metadata is not None:
            inputs[METADATA_KEY] = metadata
        return inputs

    @classmethod
    def _refuse_label_clash(cls, var_name: str, labels: Mapping[str, Any]) -> None:
        """Refuse a call whose ``*args`` would be labelled like a named parameter: one of the
        two inputs would be lost (aiida refuses it too).

        Raises:
            InputValidationError: naming the parameter to rename.
        """
        named = {
            parameter.name
            for parameter in cls.signature.parameters.values()
            if parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        }
        clashes = sorted(set(labels) & named)
        if clashes:
            raise InputValidationError(
                f"workfunction {cls.process_label()}{cls.signature}: the positional arguments "
                f"of *{var_name} are stored as inputs {', '.join(sorted(labels))}, but "
                f"{', '.join(clashes)} is also the name of a parameter; rename that parameter"
            )

    def __init__(self, inputs: Mapping[str, Any] | None = None) -> None:
        super().__init__(inputs)
        self._returned: Any = None

    def _call_arguments(self) -> tuple[list[Any], dict[str, Any]]:
        plain = self.plain_parameters
        inputs = self.inputs
        if plain is not None and len(inputs) == len(plain):
            # Every parameter has its input (and there are no others): all by position.
            return [inputs[name] for name in plain], {}
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        consumed: set[str] = set()
        for parameter in self.signature.parameters.values():
            if parameter.kind is parameter.VAR_POSITIONAL:
                index = 0
                while f"{parameter.name}_{index}" in self.inputs:
                    args.append(self.inputs[f"{parameter.name}_{index}"])
                    consumed.add(f"{parameter.name}_{index}")
                    index += 1
            elif parameter.kind is parameter.VAR_KEYWORD:
                continue
            elif parameter.name in self.inputs:
                consumed.add(parameter.name)
                if parameter.kind is parameter.KEYWORD_ONLY:
                    kwargs[parameter.name] = self.inputs[parameter.name]
                else:
                    args.append(self.inputs[parameter.name])
        kwargs.update({name: value for name, value in self.inputs.items() if name not in consumed})
        return args, kwargs

    def _step(self) -> StepOutcome:
        """Call the function and emit what it returned."""
        args, kwargs = self._call_arguments()
        returned = type(self).func(*args, **kwargs)
        if isinstance(returned, ExitCode):
            # A handled failure, as from a process's run: no outputs, that exit status.
            return StepDone(check_exit_code(returned, f"workfunction {self.process_label()}"))
        if isinstance(returned, Data):
            self.out(RETURN_LABEL, returned)
        elif isinstance(returned, Mapping):
            for name, value in returned.items():
                if not isinstance(value, Data):
                    raise OutputValidationError(
                        f"workfunction {self.process_label()} returned {name!r}: {value!r}, "
                        "not a data node; wrap it, e.g. Int(...)"
                    )
                self.out(name, value)
        elif returned is not None:
            raise OutputValidationError(
                f"workfunction {self.process_label()} returned {type(returned).__name__} "
                f"{returned!r}; return a data node (e.g. Int(...)) or a dict of them"
            )
        self._returned = returned
        return StepDone(ExitCode())

    def _result(self) -> Any:
        """What the function returned."""
        return self._returned

    @classmethod
    def _stored_result(cls, node: ProcessNode) -> Any:
        """What the function returned, read back from the node of a finished call."""
        outputs = super()._stored_result(node)
        if RETURN_LABEL in outputs:
            return outputs[RETURN_LABEL]
        return outputs or None


class Workfunction(Protocol):
    """What ``@workfunction`` returns: call it to run the function as a process."""

    process_class: type[FunctionProcess]
    is_workfunction: bool

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run blockingly; return what the function returned, stored."""
        ...

    def run_get_node(self, *args: Any, **kwargs: Any) -> tuple[Any, ProcessNode]:
        """Run blockingly; return the result and the process node."""
        ...


#: Parameters a call may give by position.
_PLAIN = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def workfunction(func: Callable[..., Any]) -> Workfunction:
    """Turn a function of data nodes into a process with provenance.

    Calling it runs it blockingly in the runtime in use and returns what it returned, stored.
    """
    signature = inspect.signature(func)
    parameters = signature.parameters.values()
    plain = all(parameter.kind in _PLAIN for parameter in parameters)
    process_class = type(
        f"{func.__name__}_process",
        (FunctionProcess,),
        {
            "func": staticmethod(func),
            "signature": signature,
            "plain_parameters": tuple(signature.parameters) if plain else None,
            "__module__": func.__module__,
            "__qualname__": f"{func.__qualname__}_process",
        },
    )

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from actors.runtime import get_runtime

        return get_runtime().run(process_class, *args, **kwargs)

    def run_get_node(*args: Any, **kwargs: Any) -> tuple[Any, ProcessNode]:
        from actors.runtime import get_runtime

        result, node = get_runtime().run_get_node(process_class, *args, **kwargs)
        assert isinstance(node, ProcessNode)
        return result, node

    wrapper.process_class = process_class  # type: ignore[attr-defined]
    wrapper.run_get_node = run_get_node  # type: ignore[attr-defined]
    wrapper.is_workfunction = True  # type: ignore[attr-defined]
    return cast(Workfunction, wrapper)
