"""Module-level launchers: the same as the ``Runtime`` methods, on ``get_runtime()``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from typing import Any

from actors.runtime import ProcessLike, get_runtime
from provenance.nodes import Node
from provenance.process_nodes import ProcessNode


def run(
    process: ProcessLike,
    *args: Any,
    _attributes: Mapping[str, Any] | None = None,
    **inputs: Any,
) -> Any:
    """Run blockingly in the runtime in use; see ``Runtime.run``. ``_attributes``: optional
    attributes stored on the process node (a Process class only)."""
    return get_runtime().run(process, *args, _attributes=_attributes, **inputs)


def run_get_node(
    process: ProcessLike,
    *args: Any,
    _attributes: Mapping[str, Any] | None = None,
    **inputs: Any,
) -> tuple[Any, Node]:
    """Run blockingly; return the result and the process node. See ``Runtime.run_get_node``."""
    return get_runtime().run_get_node(process, *args, _attributes=_attributes, **inputs)


def run_async(
    process: ProcessLike,
    *args: Any,
    _attributes: Mapping[str, Any] | None = None,
    **inputs: Any,
) -> Future[Any]:
    """Start a process; the future resolves to what ``run`` returns."""
    return get_runtime().run_async(process, *args, _attributes=_attributes, **inputs)


def submit(process: ProcessLike, *args: Any, **inputs: Any) -> ProcessNode:
    """Checkpoint a new process for the daemon and return its node; see ``Runtime.submit``."""
    return get_runtime().submit(process, *args, **inputs)


def queue_up(process_class: ProcessLike, inputs: Mapping[str, Any], storage: Any = None) -> int:
    """Checkpoint a new process for the daemon and return its pid; see ``Runtime.queue_up``."""
    return get_runtime().queue_up(process_class, inputs, storage)


def queue_up_many(
    submissions: Iterable[tuple[ProcessLike, Mapping[str, Any]]], storage: Any = None
) -> list[int]:
    """Checkpoint many new processes for the daemon at once, all or nothing, and return their
    pids; see ``Runtime.queue_up_many``."""
    return get_runtime().queue_up_many(submissions, storage)
