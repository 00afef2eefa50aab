"""The workactors engine: processes, workfunctions and the runtime that runs them as actors.

Public names are imported on first use, so that a script that needs a runtime and a
workfunction does not pay for work chains, restarts and queries at start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from provenance.lazy_imports import collector_paused, lazy_names

with collector_paused():  # see provenance.lazy_imports
    import actors.runtimes  # noqa: F401 - installs the backend providers, shuts runtimes down at exit

    # Imported now: the name is also its module's, which an import of the module would put here.
    from actors.workfunction import workfunction

if TYPE_CHECKING:
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
    from actors.launch import queue_up, queue_up_many, run, run_async, run_get_node, submit
    from actors.outline import if_, return_, while_
    from actors.ports import InputNamespace
    from actors.process import Process
    from actors.restart import BaseRestartWorkChain, ProcessHandlerReport, process_handler
    from actors.runtime import Runtime, get_runtime
    from actors.spec import ExitCode, ProcessSpec
    from actors.stack import ProcessStack
    from actors.states import TRANSITIONS
    from actors.utils import get_or_create_output_group, load_class
    from actors.workchain import WorkChain, WorkChainSpec
    from provenance.logs import DbLogHandler
    from provenance.process_state import ProcessState

#: Where each public name lives: imported on first use (PEP 562).
_HOMES: dict[str, tuple[str, ...]] = {
    "actors.caching": (
        "disable_caching",
        "enable_caching",
    ),
    "actors.context": ("Context",),
    "actors.durability": (
        "Checkpointed",
        "Ephemeral",
    ),
    "actors.errors": (
        "ActorError",
        "ClassLoadError",
        "ContextError",
        "InputValidationError",
        "OutputValidationError",
        "ProcessKilledError",
        "ProcessSuspendedError",
        "RuntimeClosedError",
        "SpecError",
        "StackError",
        "TransitionError",
        "WaitError",
    ),
    "actors.intersteps": (
        "Interstep",
        "Outputs",
        "ToContext",
        "UpdateContext",
        "append_",
        "to_context",
    ),
    "actors.knowledge": ("DefaultKnowledgeProvider",),
    "actors.launch": (
        "queue_up",
        "queue_up_many",
        "run",
        "run_async",
        "run_get_node",
        "submit",
    ),
    "actors.outline": (
        "if_",
        "return_",
        "while_",
    ),
    "actors.process": ("Process",),
    "actors.restart": (
        "BaseRestartWorkChain",
        "ProcessHandlerReport",
        "process_handler",
    ),
    "actors.runtime": (
        "Runtime",
        "get_runtime",
    ),
    "actors.ports": ("InputNamespace",),
    "actors.spec": (
        "ExitCode",
        "ProcessSpec",
    ),
    "actors.stack": ("ProcessStack",),
    "actors.states": ("TRANSITIONS",),
    "actors.utils": (
        "get_or_create_output_group",
        "load_class",
    ),
    "actors.workchain": (
        "WorkChain",
        "WorkChainSpec",
    ),
    "actors.workfunction": ("workfunction",),
    "provenance.logs": ("DbLogHandler",),
    "provenance.process_state": ("ProcessState",),
}
__getattr__, __dir__ = lazy_names(__name__, _HOMES)

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
    "queue_up_many",
    "return_",
    "run",
    "run_async",
    "run_get_node",
    "submit",
    "to_context",
    "while_",
    "workfunction",
]
