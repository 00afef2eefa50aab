"""Recreating a process from a checkpoint's class path and state, the same way in every store.

Which errors are worth another attempt and which condemn the checkpoint must not depend on where
it was kept: a database that is busy or unreachable (``ProvenanceError``) is raised as is, to be
tried again later; everything else is a ``CheckpointLoadError`` that names the checkpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from persistence.classes import import_class
from persistence.errors import CheckpointLoadError
from provenance.errors import DatabaseUnavailableError, NotExistentError, ProvenanceError
from provenance.outages import storage_failure
from provenance.process_state import ProcessState

#: The key of a saved state that holds the ``ProcessState`` value (``Process.SaveKeys.STATE``).
STATE_KEY = "state"


def restore_process(pid: int, class_path: str, state: Mapping[str, Any], where: str) -> Any:
    """The process of a checkpoint, recreated by its class's ``load_instance_state``.

    ``where`` names the checkpoint in messages (a path, or a store and pid).

    Raises:
        CheckpointLoadError: if the class cannot be imported or cannot restore the state, or if
            the state names nodes that are not in the provenance database.
        ProvenanceError: if the provenance database could not be read (try again later).
    """
    cls = import_class(class_path)
    loader = getattr(cls, "load_instance_state", None)
    if not callable(loader):
        raise CheckpointLoadError(
            f"checkpoint {where}: {class_path} has no load_instance_state; "
            "only processes can be restored from checkpoints"
        )
    try:
        return loader(state)
    except NotExistentError as exc:
        raise CheckpointLoadError(
            f"checkpoint {where} of process {pid} refers to nodes that are not in "
            f"the provenance database: {exc}; it belongs to another database"
        ) from exc
    except ProvenanceError:
        raise  # the database is unreachable or busy: worth another attempt later
    except Exception as exc:
        failure = storage_failure(f"checkpoint {where} of process {pid} was not restored", exc)
        if isinstance(failure, DatabaseUnavailableError):
            # A node read the server broke off (it restarts): not the checkpoint's fault.
            raise failure from exc
        raise CheckpointLoadError(
            f"checkpoint {where} of process {pid} ({class_path}) could "
            f"not be restored: {exc!r}; the class may have changed since it was written"
        ) from exc


def terminal_state(state: Mapping[str, Any]) -> ProcessState | None:
    """The terminal ``ProcessState`` a saved state records, or None if it has not ended."""
    try:
        process_state = ProcessState(state.get(STATE_KEY))
    except (ValueError, TypeError):
        return None
    return process_state if process_state.is_terminal else None
