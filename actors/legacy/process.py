"""``LegacyWorkflowProcess``: runs a legacy ``Workflow`` as a process, one step per message.

Each ``Workflow`` subclass gets its own process class (``Workflow.process_class``), so the runtime
launches, registers, checkpoints and publishes the end of a legacy workflow like any process, and
a work chain awaits it through ``ToContext(key=legacy_workflow(pk))``. A step that attached
calculations ends in ``StepWait`` on them, so a waiting workflow holds no thread.
"""

from __future__ import annotations

import contextvars
import logging
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, cast

from actors.process import Process
from actors.spec import ExitCode, ProcessSpec
from actors.step_outcomes import StepContinue, StepDone, StepOutcome, StepWait
from provenance.data import Data
from provenance.nodes import Node, load_nodes
from provenance.process_nodes import ProcessNode
from provenance.process_state import ProcessState
from provenance.workflow_nodes import LEGACY_STATE_ATTRIBUTE, LegacyWorkflowNode, WorkflowState

if TYPE_CHECKING:
    from actors.legacy.workflow import Workflow

#: The step every workflow runs first, and the one that ends it.
START = "start"
EXIT = "exit"

#: The workflow whose ``start()`` is launching its process in this context: ``Runtime.launch``
#: builds the process from inputs, and the process takes this object instead of building one.
_handed_over: contextvars.ContextVar[Workflow | None] = contextvars.ContextVar(
    "workactors_legacy_workflow", default=None
)

#: Workflow objects by node uuid, so that a process revived after passivation carries on with
#: the very object its user holds.
_live_workflows: weakref.WeakValueDictionary[str, Workflow] = weakref.WeakValueDictionary()


@contextmanager
def handing_over(workflow: Workflow) -> Iterator[None]:
    """Let the process launched in this block run ``workflow`` itself."""
    token = _handed_over.set(workflow)
    try:
        yield
    finally:
        _handed_over.reset(token)


class LegacyWorkflowProcess(Process):
    """The process of one ``Workflow`` subclass: parameters in, results out, one step per
    message."""

    node_class = LegacyWorkflowNode
    workflow_class: ClassVar[type[Workflow]]

    class SaveKeys(Process.SaveKeys):
        """Keys of the saved instance state, beyond those of every process."""

        NEXT_STEP = "legacy_next_step"
        STARTED = "legacy_started"
        AWAITING = "legacy_awaiting"
        PARAMETERS = "legacy_parameters"
        STEP_CALCULATIONS = "legacy_step_calculations"
        WORKFLOW_ATTRIBUTES = "legacy_workflow_attributes"

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """Parameters of any name come in, results of any name go out (data nodes)."""
        super().define(spec)
        spec.dynamic_input(Data)
        spec.dynamic_output(Data)

    @classmethod
    def process_label(cls) -> str:
        """The workflow class's name."""
        return cls.workflow_class.__name__

    @classmethod
    def class_path(cls) -> str:
        """Import path of the workflow class (its ``process_class`` leads back here)."""
        return f"{cls.workflow_class.__module__}.{cls.workflow_class.__qualname__}"

    @classmethod
    def create_db_record(cls) -> ProcessNode:
        """A legacy workflow node, its legacy state CREATED."""
        node = super().create_db_record()
        node.set_process_attributes(**{LEGACY_STATE_ATTRIBUTE: WorkflowState.CREATED.value})
        return node

    def __init__(self, inputs: Mapping[str, Any] | None = None) -> None:
        super().__init__(inputs)
        self._next_step = START
        self._started = False
        self._awaiting: set[int] = set()
        handed = _handed_over.get()
        if handed is not None and type(handed).process_class is type(self):
            workflow = handed
        else:  # launched by class (rt.run(MyWorkflow, ...)): build the workflow here
            workflow = self.workflow_class(params=dict(self.inputs))
        self._bind(workflow)

    def _bind(self, workflow: Workflow) -> None:
        self.workflow = workflow
        workflow._bind(self)
        _live_workflows[self.node.uuid] = workflow

    # Engine side.

    def _step(self) -> StepOutcome:
        """Run the workflow's next step; go on, wait for what it attached, or end at exit."""
        if self._awaiting:  # restored from a checkpoint taken while waiting
            return StepWait(frozenset(self._awaiting))
        if not self._started:
            self._started = True
            self._record(WorkflowState.RUNNING)
        name = self._next_step
        if name == EXIT:
            return StepDone(ExitCode())
        try:
            self._next_step, attached = self.workflow._run_step(name)
        except Exception as exc:
            self.workflow._report(
                logging.ERROR,
                name,
                f"step {name!r} failed: {type(exc).__name__}: {exc} "
                f"(the traceback is on node {self.pid})",
            )
            raise
        if attached:
            self._awaiting = {node.pk for node in attached if node.pk is not None}
            return StepWait(frozenset(self._awaiting))
        return StepDone(ExitCode()) if self._next_step == EXIT else StepContinue()

    @property
    def _waiting_on(self) -> frozenset[int]:
        """The attached calculations that have not ended yet."""
        return frozenset(self._awaiting)

    def _child_terminated(self, pid: int, state: ProcessState) -> bool:
        """Tick off an attached calculation; True once none is left."""
        del state
        if pid not in self._awaiting:
            return False
        self._awaiting.discard(pid)
        return not self._awaiting

    def _record(self, state: WorkflowState) -> None:
        update = self.node.set_process_attributes(**{LEGACY_STATE_ATTRIBUTE: state.value})
        self.runtime.backend.write_nowait([update])

    def on_finish(self, exit_code: ExitCode | None = None) -> None:
        """The legacy state becomes FINISHED, stored with the end of the process."""
        self.node.set_process_attributes(**{LEGACY_STATE_ATTRIBUTE: WorkflowState.FINISHED.value})
        super().on_finish(exit_code)

    def on_except(self, traceback_text: str) -> None:
        """The legacy state becomes ERROR, stored with the traceback."""
        self.node.set_process_attributes(**{LEGACY_STATE_ATTRIBUTE: WorkflowState.ERROR.value})
        super().on_except(traceback_text)

    def on_kill(self, message: str | None) -> None:
        """The legacy state becomes ERROR, stored with the kill."""
        self.node.set_process_attributes(**{LEGACY_STATE_ATTRIBUTE: WorkflowState.ERROR.value})
        super().on_kill(message)

    # Checkpoints.

    def save_instance_state(self, *, nodes_by_value: bool = False) -> dict[str, Any]:
        """The process state plus the workflow's position, parameters as given, attached
        calculations and the attributes its steps keep on ``self``."""
        state = super().save_instance_state(nodes_by_value=nodes_by_value)
        keys = self.SaveKeys
        workflow = self.workflow

        def ref(node: Node) -> Node | str:
            return node if nodes_by_value or not node.is_stored else node.uuid

        state.update(
            {
                keys.NEXT_STEP: self._next_step,
                keys.STARTED: self._started,
                keys.AWAITING: sorted(self._awaiting),
                keys.PARAMETERS: workflow.get_parameters(),
                keys.STEP_CALCULATIONS: {
                    name: [ref(node) for node in nodes]
                    for name, nodes in workflow._step_calculations.items()
                },
                keys.WORKFLOW_ATTRIBUTES: workflow._user_attributes(),
            }
        )
        return state

    def _load_instance_state(self, state: Mapping[str, Any]) -> None:
        super()._load_instance_state(state)
        keys = self.SaveKeys
        self._next_step = state[keys.NEXT_STEP]
        self._started = state[keys.STARTED]
        self._awaiting = set(state[keys.AWAITING])
        saved: Mapping[str, list[Node | str]] = state[keys.STEP_CALCULATIONS]
        loaded = load_nodes(ref for refs in saved.values() for ref in refs if isinstance(ref, str))
        calculations = {
            name: [cast(ProcessNode, loaded[ref] if isinstance(ref, str) else ref) for ref in refs]
            for name, refs in saved.items()
        }
        workflow_class = self.workflow_class
        workflow = _live_workflows.get(self.node.uuid)
        if type(workflow) is not workflow_class:
            workflow = workflow_class.__new__(workflow_class)
        self._bind(
            workflow._restore(
                params=state[keys.PARAMETERS],
                parameter_nodes=cast(dict[str, Data], dict(self.inputs)),
                step_calculations=calculations,
                attributes=state[keys.WORKFLOW_ATTRIBUTES],
            )
        )


def process_class_for(workflow_class: type[Workflow]) -> type[LegacyWorkflowProcess]:
    """The process class that runs ``workflow_class`` (made once, by ``Workflow``)."""
    process_class = type(
        workflow_class.__name__,
        (LegacyWorkflowProcess,),
        {
            "workflow_class": workflow_class,
            "__module__": workflow_class.__module__,
            "__qualname__": f"{workflow_class.__qualname__}.process_class",
            "__doc__": f"The process that runs the legacy workflow {workflow_class.__name__}.",
        },
    )
    return cast(type[LegacyWorkflowProcess], process_class)
