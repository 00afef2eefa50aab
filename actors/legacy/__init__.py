"""Legacy adapters: the old workflow API and the ``RunningInfo`` that work chains await.

``Workflow`` runs old step-by-step workflows as processes with provenance; ``legacy_calc(pk)``
and ``legacy_workflow(pk)`` give the ``RunningInfo`` that ``ToContext`` awaits.
"""

from actors.legacy.errors import LegacyWorkflowError
from actors.legacy.process import LegacyWorkflowProcess
from actors.legacy.running import RunningInfo, RunningType, legacy_calc, legacy_workflow
from actors.legacy.steps import BoundStep, WorkflowStep
from actors.legacy.workflow import Workflow
from provenance.workflow_nodes import LegacyWorkflowNode, WorkflowState

__all__ = [
    "BoundStep",
    "LegacyWorkflowError",
    "LegacyWorkflowNode",
    "LegacyWorkflowProcess",
    "RunningInfo",
    "RunningType",
    "Workflow",
    "WorkflowState",
    "WorkflowStep",
    "legacy_calc",
    "legacy_workflow",
]
