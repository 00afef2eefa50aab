"""The workactors engine: processes, workfunctions and the runtime that runs them as actors."""

from actors.caching import disable_caching, enable_caching
from actors.context import Context
from actors.durability import Checkpointed, Ephemeral
from actors.errors import (
    ActorError,
    ClassLoadError,
    ContextError,
    InputValidationError,
    OutputValidationError,
    ProcessKilledError,
    ProcessSuspendedError,
    RuntimeClosedError,
    SpecError,
    StackError,
    TransitionError,
    WaitError,
)
from actors.intersteps import Interstep, Outputs, ToContext, UpdateContext, append_, to_context
from actors.knowledge import DefaultKnowledgeProvider
from actors.launch import queue_up, run, run_async, run_get_node, submit
from actors.outline import if_, return_, while_
from actors.process import Process
from actors.restart import BaseRestartWorkChain, ProcessHandlerReport, process_handler
from actors.runtime import Runtime, get_runtime
from actors.spec import ExitCode, InputNamespace, ProcessSpec
from actors.stack import ProcessStack
from actors.states import TRANSITIONS
from actors.utils import get_or_create_output_group, load_class
from actors.workchain import WorkChain, WorkChainSpec
from actors.workfunction import workfunction
from provenance.logs import DbLogHandler
from provenance.process_state import ProcessState

__all__ = [
    "TRANSITIONS",
    "ActorError",
    "BaseRestartWorkChain",
    "Checkpointed",
    "ClassLoadError",
    "Context",
    "ContextError",
    "DbLogHandler",
    "DefaultKnowledgeProvider",
    "Ephemeral",
    "ExitCode",
    "InputNamespace",
    "InputValidationError",
    "Interstep",
    "OutputValidationError",
    "Outputs",
    "Process",
    "ProcessHandlerReport",
    "ProcessKilledError",
    "ProcessSpec",
    "ProcessStack",
    "ProcessState",
    "ProcessSuspendedError",
    "Runtime",
    "RuntimeClosedError",
    "SpecError",
    "StackError",
    "ToContext",
    "TransitionError",
    "UpdateContext",
    "WaitError",
    "WorkChain",
    "WorkChainSpec",
    "append_",
    "disable_caching",
    "enable_caching",
    "get_or_create_output_group",
    "get_runtime",
    "if_",
    "load_class",
    "process_handler",
    "queue_up",
    "return_",
    "run",
    "run_async",
    "run_get_node",
    "submit",
    "to_context",
    "while_",
    "workfunction",
]
