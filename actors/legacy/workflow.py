"""The legacy ``Workflow``: the old step-by-step workflow API, run as a process.

    class Eos(Workflow):
        @Workflow.step
        def start(self):
            self.append_to_report("fitting %d points" % len(self.get_parameters()["scales"]))
            self.next(self.fit)

        @Workflow.step
        def fit(self):
            self.add_result("energy", Float(-1.5))
            self.next(self.exit)

    wf = Eos(params={"scales": [0.98, 1.0, 1.02]})
    wf.start()             # launched in the runtime in use; returns at once
    wf.wait(timeout=60)    # WorkflowState.FINISHED

Every workflow has a step called ``start``, which runs first; calling ``wf.start()`` launches
the workflow (the old engine ran that step in the caller and the rest in its daemon). Each step
chooses the next one with ``self.next(...)``, or ends the workflow with ``self.next(self.exit)``.
The engine runs one step per message on the workflow's process actor (``LegacyWorkflowProcess``);
a step that attached calculations is followed by the next one only when they have terminated.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from concurrent.futures import wait as wait_for
from typing import TYPE_CHECKING, Any, ClassVar, Self

from actors.legacy.errors import LegacyWorkflowError
from actors.legacy.parameters import parameter_nodes
from actors.legacy.process import EXIT, START, handing_over, process_class_for
from actors.legacy.steps import (
    BoundStep,
    StepFunction,
    StepRun,
    WorkflowStep,
    not_a_step,
    steps_of,
)
from actors.process import REPORT_LOGGER_NAME
from actors.runtime import get_runtime
from provenance.data import Data
from provenance.process_nodes import ProcessNode
from provenance.workflow_nodes import LegacyWorkflowNode, WorkflowState

if TYPE_CHECKING:
    from actors.legacy.process import LegacyWorkflowProcess

_report_logger = logging.getLogger(REPORT_LOGGER_NAME)

#: Instance attributes that belong to the engine; the others are the user's, kept in checkpoints.
_ENGINE_ATTRIBUTES = frozenset(
    {"_params", "_parameter_nodes", "_process", "_future", "_step_run", "_step_calculations"}
)


class Workflow:
    """A legacy workflow: steps marked ``@Workflow.step``, starting with ``start``.

    Args:
        params: the parameters, by name: data nodes, or plain bool, int, float, str, list or
            dict values (wrapped in data nodes to be stored as its inputs).

    Raises:
        InputValidationError: naming every parameter that cannot be stored.
    """

    process_class: ClassVar[type[LegacyWorkflowProcess]]
    _steps: ClassVar[dict[str, WorkflowStep]]

    @staticmethod
    def step(func: StepFunction) -> WorkflowStep:
        """Mark a method (taking only ``self``) as a step of the workflow."""
        return WorkflowStep(func)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in (START, EXIT):
            if not isinstance(getattr(cls, name, None), WorkflowStep):
                raise LegacyWorkflowError(
                    f"{cls.__qualname__}.{name} must be a step: decorate it with @Workflow.step"
                )
        cls._steps = steps_of(cls)
        cls.process_class = process_class_for(cls)

    def __init__(self, *, params: Mapping[str, Any] | None = None) -> None:
        self._params: dict[str, Any] = dict(params or {})
        self._parameter_nodes = parameter_nodes(self._params, type(self).__name__)
        self._process: LegacyWorkflowProcess | None = None
        self._future: Future[Any] | None = None
        self._step_run: StepRun | None = None
        self._step_calculations: dict[str, list[ProcessNode]] = {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: pk {self.pk} {self.get_state().name}>"

    @WorkflowStep
    def start(self) -> None:
        """The first step, which every workflow defines; ``wf.start()`` launches it."""

    @WorkflowStep
    def exit(self) -> None:
        """Never run: ``self.next(self.exit)`` ends the workflow."""

    # Launching and waiting.

    def _launch(self) -> None:
        cls = type(self)
        if self._process is not None:
            raise LegacyWorkflowError(
                f"{self!r} was started already; create a new {cls.__name__} to run it again"
            )
        if cls._steps[START] is Workflow._steps[START]:
            raise LegacyWorkflowError(
                f"{cls.__name__} has no start step: define `def start(self)` marked "
                "@Workflow.step; it runs first"
            )
        try:
            with handing_over(self):
                _process, self._future = get_runtime().launch(
                    cls.process_class, self._parameter_nodes
                )
        except BaseException:
            self._process = None
            raise

    @property
    def pk(self) -> int | None:
        """The pk of the workflow's node (its pid); None until started."""
        return None if self._process is None else self._process.pid

    @property
    def node(self) -> LegacyWorkflowNode | None:
        """The node recording the workflow; None until started."""
        if self._process is None:
            return None
        node = self._process.node
        assert isinstance(node, LegacyWorkflowNode)
        return node

    @property
    def future(self) -> Future[Any]:
        """Resolves to the results dict when the workflow finishes; raises what a step raised.

        Raises:
            LegacyWorkflowError: if this object did not start the workflow.
        """
        if self._future is None:
            raise LegacyWorkflowError(f"{self!r} was not started here: call wf.start() first")
        return self._future

    def wait(self, timeout: float | None = None) -> WorkflowState:
        """Wait until the workflow terminated; return its state (FINISHED or ERROR).

        A step's exception is not raised here: the state says ERROR, the traceback is on the
        node (``wf.node.exception``) and a line in the report says which step failed.

        Raises:
            TimeoutError: if it is still running after ``timeout`` seconds.
            LegacyWorkflowError: if this object did not start the workflow.
        """
        if not wait_for([self.future], timeout=timeout).done:
            raise TimeoutError(f"{self!r} is still running after {timeout} s")
        return self.get_state()

    # State, parameters, results, report.

    def get_state(self) -> WorkflowState:
        """CREATED until started, RUNNING (also while waiting), then FINISHED or ERROR."""
        if self._process is None:
            return WorkflowState.CREATED
        return WorkflowState.of(self._process.state)

    def is_new(self) -> bool:
        """True until the workflow is started."""
        return self.get_state() is WorkflowState.CREATED

    def is_running(self) -> bool:
        """True while the workflow runs or waits."""
        return self.get_state() is WorkflowState.RUNNING

    def has_finished_ok(self) -> bool:
        """True once the workflow reached ``exit``."""
        return self.get_state() is WorkflowState.FINISHED

    def has_failed(self) -> bool:
        """True if a step raised or the workflow was killed."""
        return self.get_state() is WorkflowState.ERROR

    def get_parameters(self) -> dict[str, Any]:
        """The parameters as given to the constructor."""
        return dict(self._params)

    def get_parameter(self, name: str) -> Any:
        """One parameter.

        Raises:
            KeyError: naming the parameters there are.
        """
        try:
            return self._params[name]
        except KeyError:
            raise KeyError(
                f"{type(self).__name__} has no parameter {name!r}; "
                f"parameters: {', '.join(sorted(self._params)) or 'none'}"
            ) from None

    def add_result(self, name: str, value: Data) -> None:
        """Record a result; it is stored and linked from the node when the workflow ends.

        Raises:
            LegacyWorkflowError: outside the workflow's steps.
            OutputValidationError: if ``value`` is not a data node.
        """
        self._in_step("add_result")
        assert self._process is not None
        self._process.out(name, value)

    def add_results(self, results: Mapping[str, Data]) -> None:
        """Record several results (see ``add_result``)."""
        for name, value in results.items():
            self.add_result(name, value)

    def get_results(self) -> dict[str, Data]:
        """The results added so far, by name."""
        return {} if self._process is None else self._process.outputs

    def get_result(self, name: str) -> Data:
        """One result.

        Raises:
            KeyError: naming the results there are.
        """
        results = self.get_results()
        try:
            return results[name]
        except KeyError:
            raise KeyError(
                f"{type(self).__name__} has no result {name!r}; "
                f"results: {', '.join(sorted(results)) or 'none'}"
            ) from None

    def append_to_report(self, text: str) -> None:
        """Add a line to the workflow's report (its node's log), prefixed ``[Class|method]``.

        Raises:
            LegacyWorkflowError: before the workflow is started (it has no node yet).
        """
        if self._process is None:
            raise LegacyWorkflowError(
                f"{self!r} has no report before it is started: call wf.start() first"
            )
        self._report(logging.INFO, sys._getframe(1).f_code.co_name, text)

    def get_report(self) -> list[str]:
        """The lines of the report stored so far, oldest first."""
        node = self.node
        return [] if node is None else [entry.message for entry in node.logs]

    # Inside steps.

    def next(self, next_method: BoundStep) -> None:
        """Choose the step that runs after this one; ``self.next(self.exit)`` ends the workflow.

        Raises:
            LegacyWorkflowError: outside a step, called twice in a step, or given something
                that is not a step of this workflow.
        """
        run = self._in_step("next")
        if not isinstance(next_method, BoundStep) or next_method.workflow is not self:
            raise LegacyWorkflowError(not_a_step(next_method))
        if run.chosen is not None:
            raise LegacyWorkflowError(
                f"step {run.name!r} chose {run.chosen!r} already; call next() once per step"
            )
        run.chosen = next_method.name

    def attach_calculation(self, calc: ProcessNode | Workflow) -> None:
        """Wait for ``calc`` (a launched process's node, or a started workflow) to terminate
        before the next step runs; ``get_step_calculations`` lists it afterwards.

        Raises:
            LegacyWorkflowError: outside a step, if ``calc`` was never launched, or if it is
                this workflow.
        """
        run = self._in_step("attach_calculation")
        node = calc.node if isinstance(calc, Workflow) else calc
        if not isinstance(node, ProcessNode) or node.pk is None:
            raise LegacyWorkflowError(
                f"attach_calculation({calc!r}): pass the node of a launched process "
                "(or a started workflow)"
            )
        if node.pk == self.pk:
            raise LegacyWorkflowError(
                f"attach_calculation: {self!r} cannot wait for itself; attach what it launched"
            )
        run.attached.append(node)

    def get_step_calculations(self, step: BoundStep | WorkflowStep) -> list[ProcessNode]:
        """The calculations attached in the runs of ``step`` so far."""
        return list(self._step_calculations.get(step.name, ()))

    # Engine side (``LegacyWorkflowProcess``).

    def _in_step(self, what: str) -> StepRun:
        run = self._step_run
        if run is None or run.thread != threading.get_ident():
            raise LegacyWorkflowError(
                f"{what}() is for the steps of {type(self).__name__}: call it inside a method "
                "marked @Workflow.step while the engine runs it"
            )
        return run

    def _report(self, level: int, method: str, text: str) -> None:
        process = self._process
        assert process is not None
        _report_logger.log(
            level,
            "[%s|%s] %s",
            type(self).__name__,
            method,
            text,
            extra={"pid": process.pid, "workactors_runtime": id(process.runtime)},
        )

    def _run_step(self, name: str) -> tuple[str, list[ProcessNode]]:
        """Run step ``name``; return the step it chose next and the calculations it attached.

        Raises:
            LegacyWorkflowError: if there is no such step, or it chose no next step.
            Exception: whatever the step raised.
        """
        step = type(self)._steps.get(name)
        if step is None:  # a checkpoint taken before the class changed
            raise LegacyWorkflowError(
                f"{type(self).__name__} has no step {name!r} to run next; was it renamed since "
                "the workflow was saved?"
            )
        run = StepRun(name, threading.get_ident())
        self._step_run = run
        try:
            step.func(self)
        finally:
            self._step_run = None
        if run.chosen is None:
            raise LegacyWorkflowError(
                f"step {name!r} of {type(self).__name__} ended without choosing what follows: "
                "call self.next(self.<step>), or self.next(self.exit) to end"
            )
        if run.attached:
            self._step_calculations.setdefault(name, []).extend(run.attached)
        return run.chosen, run.attached

    def _bind(self, process: LegacyWorkflowProcess) -> None:
        self._process = process

    def _user_attributes(self) -> dict[str, Any]:
        """What the user's code keeps on ``self``, for a checkpoint."""
        return {key: value for key, value in vars(self).items() if key not in _ENGINE_ATTRIBUTES}

    def _restore(
        self,
        params: Mapping[str, Any],
        parameter_nodes: Mapping[str, Data],
        step_calculations: Mapping[str, list[ProcessNode]],
        attributes: Mapping[str, Any],
    ) -> Self:
        """Fill this workflow (bare, or a live one) from a checkpoint."""
        vars(self).update(attributes)
        self._params = dict(params)
        self._parameter_nodes = dict(parameter_nodes)
        self._step_calculations = {name: list(nodes) for name, nodes in step_calculations.items()}
        self._step_run = None
        self._future = getattr(self, "_future", None)
        self._process = getattr(self, "_process", None)
        return self


Workflow._steps = steps_of(Workflow)
