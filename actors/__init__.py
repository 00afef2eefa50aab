"""The workactors engine: processes, workfunctions and the runtime that runs them as actors."""

from actors.errors import (
    ActorError,
    ClassLoadError,
    InputValidationError,
    OutputValidationError,
    ProcessKilledError,
    RuntimeClosedError,
    SpecError,
    StackError,
    TransitionError,
)
from actors.knowledge import DefaultKnowledgeProvider
from actors.launch import run, run_async, run_get_node
from actors.process import Process
from actors.runtime import Runtime, get_runtime
from actors.spec import ExitCode, ProcessSpec
from actors.stack import ProcessStack
from actors.states import TRANSITIONS
from actors.utils import get_or_create_output_group, load_class
from actors.workfunction import workfunction
from provenance.logs import DbLogHandler
from provenance.process_state import ProcessState

__all__ = [
    "TRANSITIONS",
    "ActorError",
    "ClassLoadError",
    "DbLogHandler",
    "DefaultKnowledgeProvider",
    "ExitCode",
    "InputValidationError",
    "OutputValidationError",
    "Process",
    "ProcessKilledError",
    "ProcessSpec",
    "ProcessStack",
    "ProcessState",
    "Runtime",
    "RuntimeClosedError",
    "SpecError",
    "StackError",
    "TransitionError",
    "get_or_create_output_group",
    "get_runtime",
    "load_class",
    "run",
    "run_async",
    "run_get_node",
    "workfunction",
]
