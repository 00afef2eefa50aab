"""``BaseRestartWorkChain``: run a child process until it succeeds, with handlers that fix
what made it fail.

Each attempt is a child launched by ``run_process`` (full provenance, a CALL link per attempt);
``inspect_process`` asks the ``@process_handler`` methods, highest priority first, what to do with
the child that just ended. A handler returns ``ProcessHandlerReport`` to say it acted: with
``do_break`` no lower handler is asked; with a non-zero ``exit_code`` the work chain stops with it.
A failure no handler took is retried once; a second one in a row stops the work chain. Every
step goes through the ordinary work chain machinery, so on a durable runtime a crash between
two attempts loses no attempt and launches none twice (the child is found again by its call key).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, overload

from actors.errors import InputValidationError, SpecError
from actors.intersteps import append_
from actors.outline import while_
from actors.process import Process
from actors.spec import ExitCode, ProcessSpec, class_key
from actors.workchain import WorkChain
from provenance.data import Dict, Int
from provenance.process_nodes import ProcessNode
from provenance.serialize import to_node

HANDLER_MARK = "_process_handler"


class ProcessHandlerReport(NamedTuple):
    """What a handler did: ``do_break`` stops asking lower handlers; a non-zero ``exit_code``
    ends the work chain with it."""

    do_break: bool = False
    exit_code: ExitCode = ExitCode(0)


@dataclass(frozen=True, slots=True)
class HandlerOptions:
    """How ``@process_handler`` registered a method."""

    priority: int
    exit_codes: frozenset[int] | None
    enabled: bool


Handler = Callable[[Any, ProcessNode], Any]


@overload
def process_handler(function: Handler, /) -> Handler: ...


@overload
def process_handler(
    *,
    priority: int = 0,
    exit_codes: Iterable[ExitCode | int] | ExitCode | int | None = None,
    enabled: bool = True,
) -> Callable[[Handler], Handler]: ...


def process_handler(
    function: Handler | None = None,
    *,
    priority: int = 0,
    exit_codes: Iterable[ExitCode | int] | ExitCode | int | None = None,
    enabled: bool = True,
) -> Handler | Callable[[Handler], Handler]:
    """Mark a ``BaseRestartWorkChain`` method ``handler(self, node)`` as a process handler.

    ``priority``: higher runs first. ``exit_codes``: only called when the child ended with one
    of these (ExitCode or status). ``enabled``: the default; a launch may override it through
    the ``handler_overrides`` input. Usable bare (``@process_handler``) or with arguments.
    """
    if isinstance(exit_codes, ExitCode | int):
        exit_codes = [exit_codes]
    statuses = None
    if exit_codes is not None:
        statuses = frozenset(
            code.status if isinstance(code, ExitCode) else int(code) for code in exit_codes
        )
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise SpecError(f"process_handler priority must be an int, got {priority!r}")
    if not isinstance(enabled, bool):
        raise SpecError(f"process_handler enabled must be True or False, got {enabled!r}")

    def mark(method: Handler) -> Handler:
        @functools.wraps(method)
        def handler(self: Any, node: ProcessNode) -> Any:
            return method(self, node)

        setattr(handler, HANDLER_MARK, HandlerOptions(priority, statuses, bool(enabled)))
        return handler

    return mark(function) if function is not None else mark


class BaseRestartWorkChain(WorkChain):
    """Run ``_process_class`` until it succeeds, up to ``max_iterations`` attempts.

    Subclass, set ``_process_class`` and usually ``spec.expose_inputs(cls._process_class,
    namespace=...)``/``spec.expose_outputs(cls._process_class)``; ``setup`` fills
    ``self.ctx.inputs`` from the exposed inputs (override it to change them), and each attempt
    launches the child with ``self.ctx.inputs``, which handlers may change between attempts.
    """

    _process_class: ClassVar[type[Process] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._check_handlers()

    @classmethod
    def _check_handlers(cls) -> None:
        """Refuse a handler for an exit code the child cannot end with, at definition."""
        child = cls._process_class
        if child is None:
            return
        known = {code.status: code.label for code in child.spec().exit_codes.values()}
        for name, options in cls.handlers():
            unknown = sorted((options.exit_codes or frozenset()) - set(known))
            if unknown:
                declared = ", ".join(f"{status} {label}" for status, label in known.items())
                raise SpecError(
                    f"{cls.__qualname__}.{name} handles exit status "
                    f"{', '.join(map(str, unknown))}, which {child.__name__} does not declare "
                    f"(its exit codes: {declared or 'none'})"
                )

    @classmethod
    def handlers(cls) -> list[tuple[str, HandlerOptions]]:
        """The process handlers of this class, highest priority first (then by name)."""
        found = []
        for name in dir(cls):
            options = getattr(getattr(cls, name, None), HANDLER_MARK, None)
            if isinstance(options, HandlerOptions):
                found.append((name, options))
        return sorted(found, key=lambda item: (-item[1].priority, item[0]))

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """The inputs, exit codes and outline every restart work chain has."""
        super().define(spec)
        spec.input(
            "max_iterations",
            valid_type=Int,
            default=lambda: Int(5),
            serializer=to_node,
            help="the most attempts of the child process",
        )
        spec.input(
            "handler_overrides",
            valid_type=Dict,
            required=False,
            serializer=to_node,
            help="{handler name: bool} to enable or disable handlers for this launch",
        )
        spec.exit_code(301, "ERROR_SUB_PROCESS_EXCEPTED", "the child process excepted")
        spec.exit_code(302, "ERROR_SUB_PROCESS_KILLED", "the child process was killed")
        spec.exit_code(
            401, "ERROR_MAXIMUM_ITERATIONS_EXCEEDED", "the maximum number of iterations was hit"
        )
        spec.exit_code(
            402,
            "ERROR_SECOND_CONSECUTIVE_UNHANDLED_FAILURE",
            "the child process failed twice in a row and no handler took it",
        )
        assert hasattr(spec, "outline")
        spec.outline(
            cls.setup,
            while_(cls.should_run_process)(cls.run_process, cls.inspect_process),
            cls.results,
        )

    def __init__(self, inputs: Any = None) -> None:
        super().__init__(inputs)
        attempts = self.inputs.max_iterations.value
        if attempts < 1:
            raise InputValidationError(
                f"max_iterations of {self.process_label()} must be at least 1 (the number of "
                f"attempts of {self._child_class().__qualname__}), got {attempts}"
            )
        overrides = self.inputs.get("handler_overrides")
        if overrides is not None:
            names = {name for name, _options in self.handlers()}
            for name, value in overrides.value.items():
                if name not in names:
                    raise InputValidationError(
                        f"handler_overrides of {self.process_label()}: no handler {name!r} "
                        f"(handlers: {', '.join(sorted(names)) or 'none'})"
                    )
                if not isinstance(value, bool):
                    raise InputValidationError(
                        f"handler_overrides of {self.process_label()}: {name} must be true or "
                        f"false, got {value!r}"
                    )

    @classmethod
    def _child_class(cls) -> type[Process]:
        if cls._process_class is None:
            raise SpecError(f"{cls.__qualname__} must set _process_class to the process it runs")
        return cls._process_class

    def _exposed_namespace(self) -> tuple[bool, str | None]:
        """Whether the child's inputs were exposed, and in which namespace."""
        key = class_key(self._child_class())
        for exposed_key, namespace in type(self).spec().exposed_inputs:
            if exposed_key == key:
                return True, namespace
        return False, None

    def _code(self, label: str) -> ExitCode:
        code: ExitCode = self.exit_codes[label]
        return code

    # The outline.

    def setup(self) -> None:
        """Start counting attempts; take the child's inputs from the exposed ones."""
        self.ctx.iteration = 0
        self.ctx.is_finished = False
        self.ctx.unhandled_failure = False
        self.ctx.children = []
        exposed, namespace = self._exposed_namespace()
        if exposed and "inputs" not in self.ctx:
            self.ctx.inputs = self.exposed_inputs(self._child_class(), namespace)

    def should_run_process(self) -> bool:
        """True while the child has not succeeded and attempts are left."""
        return not self.ctx.is_finished and self.ctx.iteration < self.inputs.max_iterations.value

    def run_process(self) -> Any:
        """Launch the next attempt with ``self.ctx.inputs``."""
        if "inputs" not in self.ctx:
            raise SpecError(
                f"{self.process_label()}: self.ctx.inputs is not set; expose the inputs of "
                f"{self._child_class().__name__} or set it in setup()"
            )
        self.ctx.iteration += 1
        inputs = dict(self.ctx.inputs)
        inputs.setdefault(
            "metadata",
            {"label": f"{self.process_label()} attempt {self.ctx.iteration}"},
        )
        node = self.submit(self._child_class(), **inputs)
        self.report(
            "launched %s<%s> attempt #%d", self._child_class().__name__, node.pk, self.ctx.iteration
        )
        return {"children": append_(node)}

    def inspect_process(self) -> ExitCode | None:
        """Ask the handlers about the attempt that just ended."""
        node: ProcessNode = self.ctx.children[-1]
        if node.is_excepted:
            return self._code("ERROR_SUB_PROCESS_EXCEPTED")
        if node.is_killed:
            return self._code("ERROR_SUB_PROCESS_KILLED")
        status = node.exit_status or 0
        last_report = self._run_handlers(node, status)
        if last_report is not None or status == 0:
            self.ctx.unhandled_failure = False
            if last_report is not None and last_report.exit_code.status != 0:
                exit_code: ExitCode = last_report.exit_code
                return exit_code
            self.ctx.is_finished = status == 0
            return None
        return self._unhandled_failure(node, status)

    def _unhandled_failure(self, node: ProcessNode, status: int) -> ExitCode | None:
        """The first failure no handler took is tried again; the second in a row ends it."""
        if self.ctx.unhandled_failure:
            self.report(
                "%s<%s> failed (exit status %d) a second time in a row with no handler: abort",
                self._child_class().__name__,
                node.pk,
                status,
            )
            return self._code("ERROR_SECOND_CONSECUTIVE_UNHANDLED_FAILURE")
        self.ctx.unhandled_failure = True
        self.report(
            "%s<%s> failed (exit status %d) and no handler took it: trying once more",
            self._child_class().__name__,
            node.pk,
            status,
        )
        return None

    def _run_handlers(self, node: ProcessNode, status: int) -> ProcessHandlerReport | None:
        overrides = self.inputs.get("handler_overrides")
        enabled_by_launch: dict[str, bool] = dict(overrides.value) if overrides else {}
        last: ProcessHandlerReport | None = None
        for name, options in self.handlers():
            if not enabled_by_launch.get(name, options.enabled):
                continue
            if options.exit_codes is not None and status not in options.exit_codes:
                continue
            report = getattr(self, name)(node)
            if report is None:
                continue
            if not isinstance(report, ProcessHandlerReport):
                raise SpecError(
                    f"{type(self).__name__}.{name} returned {report!r}; a process handler "
                    "returns None or a ProcessHandlerReport"
                )
            self.report(
                "handler %s acted on %s<%s> (exit status %d)%s",
                name,
                self._child_class().__name__,
                node.pk,
                status,
                f": ends with {report.exit_code.label or report.exit_code.status}"
                if report.exit_code.status
                else "",
            )
            last = report
            if report.do_break:
                break
        return last

    def results(self) -> ExitCode | None:
        """Emit the outputs of the last attempt, or fail if attempts ran out."""
        if not self.ctx.is_finished:
            self.report(
                "%s did not succeed in %d attempts",
                self._child_class().__name__,
                self.ctx.iteration,
            )
            return self._code("ERROR_MAXIMUM_ITERATIONS_EXCEEDED")
        node: ProcessNode = self.ctx.children[-1]
        spec = type(self).spec()
        child_key = class_key(self._child_class())
        namespaces = [ns for (key, ns) in spec.exposed_outputs if key == child_key]
        if namespaces:
            for namespace in namespaces:
                self.out_many(self.exposed_outputs(node, self._child_class(), namespace))
            return None
        outputs = {
            label: value
            for label, value in node.get_outputs_dict().items()
            if label in spec.outputs or spec.dynamic_outputs.enabled
        }
        self.out_many(outputs)
        return None


__all__ = ["BaseRestartWorkChain", "ProcessHandlerReport", "process_handler"]
