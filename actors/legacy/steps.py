"""Workflow steps: ``@Workflow.step`` marks a method, ``self.next(self.step)`` names one.

A ``WorkflowStep`` is a descriptor: read from a workflow it gives a ``BoundStep``, which is what
``next`` takes. Calling ``wf.start()`` launches the workflow; the engine alone runs the steps.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

from actors.legacy.errors import LegacyWorkflowError
from actors.legacy.process import START
from provenance.process_nodes import ProcessNode

if TYPE_CHECKING:
    from actors.legacy.workflow import Workflow

StepFunction = Callable[[Any], object]

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


class WorkflowStep:
    """A method marked ``@Workflow.step``; read from a workflow, it gives a ``BoundStep``.

    Raises:
        LegacyWorkflowError: if the method takes arguments besides ``self``.
    """

    def __init__(self, func: StepFunction) -> None:
        name: str = getattr(func, "__name__", repr(func))
        parameters = list(inspect.signature(func).parameters.values())
        if len(parameters) != 1 or parameters[0].kind not in _POSITIONAL:
            shown = ", ".join(
                str(parameter.replace(annotation=inspect.Parameter.empty))
                for parameter in parameters
            )
            raise LegacyWorkflowError(
                f"step {name}({shown}) must take self and nothing else: keep what steps share "
                "in attributes of self, or in results"
            )
        self.func = func
        self.name = name
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> WorkflowStep: ...

    @overload
    def __get__(self, instance: Workflow, owner: type | None = None) -> BoundStep: ...

    def __get__(self, instance: Workflow | None, owner: type | None = None) -> Any:
        return self if instance is None else BoundStep(instance, self)

    def __repr__(self) -> str:
        return f"<workflow step {self.name}>"


@dataclass(frozen=True, slots=True, eq=False)
class BoundStep:
    """A step of one workflow: what ``self.next(...)`` takes."""

    workflow: Workflow
    step: WorkflowStep

    @property
    def name(self) -> str:
        """The step's name."""
        return self.step.name

    def __call__(self) -> None:
        """``wf.start()`` launches the workflow; the engine alone runs the other steps.

        Raises:
            LegacyWorkflowError: for any step but ``start``, or if the workflow was started.
        """
        if self.name == START:
            self.workflow._launch()
            return
        raise LegacyWorkflowError(
            f"{type(self.workflow).__name__}.{self.name} is a step: the engine runs it once a "
            f"step chose it with self.next(self.{self.name}); launch the workflow with "
            "wf.start()"
        )

    def __repr__(self) -> str:
        return f"<step {self.name} of {self.workflow!r}>"


@dataclass(slots=True)
class StepRun:
    """What the step running now asked for."""

    name: str
    thread: int
    chosen: str | None = None
    attached: list[ProcessNode] = field(default_factory=list)


def steps_of(cls: type) -> dict[str, WorkflowStep]:
    """The steps of ``cls`` by name; a step overridden by a plain method is no step."""
    steps: dict[str, WorkflowStep] = {}
    for klass in reversed(cls.__mro__):
        for name, attribute in vars(klass).items():
            if isinstance(attribute, WorkflowStep):
                steps[name] = attribute
            else:
                steps.pop(name, None)
    return steps


def not_a_step(value: object) -> str:
    """What to tell a user who passed ``value`` to ``next`` instead of a step of the workflow."""
    if value is None:
        return "next(None): pass the step itself without calling it, e.g. self.next(self.exit)"
    if isinstance(value, BoundStep):
        return f"next({value!r}): that is a step of another workflow; pass one of this one's"
    name = getattr(value, "__name__", repr(value))
    return f"next({value!r}): {name} is not a step; mark it @Workflow.step"


__all__ = ["BoundStep", "StepFunction", "StepRun", "WorkflowStep", "not_a_step", "steps_of"]
