"""The node of a legacy workflow: a process node that also records the old workflow state.

A legacy ``Workflow`` (``actors.legacy``) runs as a process, so its node is a ``ProcessNode``
with the usual ``process_state``; beside it the attribute ``legacy_state`` keeps the state in the
old vocabulary (CREATED, RUNNING, FINISHED, ERROR) that legacy code asks for. Its parameters are
its INPUT links, its results its CREATE/RETURN links.
"""

from __future__ import annotations

import enum

from provenance.nodes import Node
from provenance.process_nodes import ProcessNode
from provenance.process_state import ProcessState
from provenance.records import LinkType

#: The attribute of a legacy workflow node that holds its ``WorkflowState`` value.
LEGACY_STATE_ATTRIBUTE = "legacy_state"


class WorkflowState(enum.Enum):
    """Where a legacy workflow is, in the words of the old workflow engine."""

    CREATED = "created"
    RUNNING = "running"
    FINISHED = "finished"
    ERROR = "error"

    @classmethod
    def of(cls, state: ProcessState) -> WorkflowState:
        """The legacy reading of a process state: waiting is running, excepted or killed is
        an error."""
        return _OF_PROCESS_STATE[state]


_OF_PROCESS_STATE = {
    ProcessState.CREATED: WorkflowState.CREATED,
    ProcessState.RUNNING: WorkflowState.RUNNING,
    ProcessState.WAITING: WorkflowState.RUNNING,
    ProcessState.FINISHED: WorkflowState.FINISHED,
    ProcessState.EXCEPTED: WorkflowState.ERROR,
    ProcessState.KILLED: WorkflowState.ERROR,
}


class LegacyWorkflowNode(ProcessNode):
    """The node of a legacy ``Workflow`` run."""

    node_type = "process.workflow.legacy"

    @property
    def legacy_state(self) -> WorkflowState | None:
        """The legacy state, read fresh from the database once stored; None if not recorded."""
        # Always fresh: the legacy state may be recorded after the process state.
        value = self._fresh_attributes().get(LEGACY_STATE_ATTRIBUTE)
        return None if value is None else WorkflowState(value)

    def get_parameters(self) -> dict[str, Node]:
        """The parameters the workflow was started with, by name (its INPUT links)."""
        return self.get_inputs_dict(link_type=LinkType.INPUT)

    def get_results(self) -> dict[str, Node]:
        """The results the workflow added, by name (its CREATE and RETURN links)."""
        return {
            **self.get_outputs_dict(link_type=LinkType.CREATE),
            **self.get_outputs_dict(link_type=LinkType.RETURN),
        }
