"""The provenance graph of workactors: data and process nodes, links, logs and groups.

Public names are imported on first use, so that a program that only runs processes does not pay
for the query builder, groups and archives at start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from provenance.lazy_imports import collector_paused, lazy_names

with collector_paused():  # see provenance.lazy_imports
    import provenance.data  # registers node classes for loading
    import provenance.process_nodes  # registers node classes for loading
    import provenance.workflow_nodes  # noqa: F401 - registers node classes for loading

if TYPE_CHECKING:
    from provenance.backend import ProvenanceBackend, get_backend, set_backend_provider
    from provenance.data import Bool, Data, Dict, Float, FrozenDict, Int, List, Str
    from provenance.errors import (
        AmbiguousIdentifierError,
        ArchiveError,
        InvalidValueError,
        ModificationNotAllowedError,
        MultipleObjectsError,
        NoBackendError,
        NotExistentError,
        ProvenanceError,
        QueryError,
        StorageError,
        WorkactorsError,
    )
    from provenance.groups import Group
    from provenance.logs import DbLogHandler
    from provenance.nodes import Node, load_node, load_nodes
    from provenance.process_nodes import Calculation, LogEntry, ProcessNode, WorkCalculation
    from provenance.process_state import ProcessState
    from provenance.querybuilder import QueryBuilder
    from provenance.records import LinkType
    from provenance.serialize import to_node
    from provenance.storage import Storage
    from provenance.workflow_nodes import LegacyWorkflowNode, WorkflowState

#: Where each public name lives: imported on first use (PEP 562).
_HOMES: dict[str, tuple[str, ...]] = {
    "provenance.backend": (
        "ProvenanceBackend",
        "get_backend",
        "set_backend_provider",
    ),
    "provenance.data": (
        "Bool",
        "Data",
        "Dict",
        "Float",
        "FrozenDict",
        "Int",
        "List",
        "Str",
    ),
    "provenance.errors": (
        "AmbiguousIdentifierError",
        "ArchiveError",
        "InvalidValueError",
        "ModificationNotAllowedError",
        "MultipleObjectsError",
        "NoBackendError",
        "NotExistentError",
        "ProvenanceError",
        "QueryError",
        "StorageError",
        "WorkactorsError",
    ),
    "provenance.groups": ("Group",),
    "provenance.logs": ("DbLogHandler",),
    "provenance.nodes": (
        "Node",
        "load_node",
        "load_nodes",
    ),
    "provenance.process_nodes": (
        "Calculation",
        "LogEntry",
        "ProcessNode",
        "WorkCalculation",
    ),
    "provenance.process_state": ("ProcessState",),
    "provenance.querybuilder": ("QueryBuilder",),
    "provenance.records": ("LinkType",),
    "provenance.serialize": ("to_node",),
    "provenance.storage": ("Storage",),
    "provenance.workflow_nodes": (
        "LegacyWorkflowNode",
        "WorkflowState",
    ),
}
__getattr__, __dir__ = lazy_names(__name__, _HOMES)

__all__ = [
    "AmbiguousIdentifierError",
    "ArchiveError",
    "Bool",
    "Calculation",
    "Data",
    "DbLogHandler",
    "Dict",
    "Float",
    "FrozenDict",
    "Group",
    "Int",
    "InvalidValueError",
    "LegacyWorkflowNode",
    "LinkType",
    "List",
    "LogEntry",
    "ModificationNotAllowedError",
    "MultipleObjectsError",
    "NoBackendError",
    "Node",
    "NotExistentError",
    "ProcessNode",
    "ProcessState",
    "ProvenanceBackend",
    "ProvenanceError",
    "QueryBuilder",
    "QueryError",
    "Storage",
    "StorageError",
    "Str",
    "WorkCalculation",
    "WorkactorsError",
    "WorkflowState",
    "get_backend",
    "load_node",
    "load_nodes",
    "set_backend_provider",
    "to_node",
]
