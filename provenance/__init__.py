"""The provenance graph of workactors: data and process nodes, links, logs and groups."""

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
