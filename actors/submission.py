"""Submission: new processes stored and checkpointed for a daemon worker, one or many at once.

``queue_many`` is what ``Runtime.submit``, ``queue_up`` and ``queue_up_many`` do, in the order
every durable write keeps: each process is checked first (its class importable, its inputs
valid), so a bad one stores nothing; then all the nodes are stored in one provenance write;
then all the first checkpoints are written as one group, all or none
(``CheckpointStore.save_new_states``), after the provenance they name is committed; and only
then is anyone woken, once for the batch. A batch costs one commit, one folder fsync and one
wake, where as many single submissions cost one of each per process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from actors.caching import launch_cached
from actors.durable import check_importable
from actors.errors import RuntimeClosedError
from actors.home_identity import check_home
from actors.process_records import launch_ops, mark_launched
from provenance.process_state import ProcessState

if TYPE_CHECKING:
    from actors.process import Process
    from actors.runtime import Runtime
    from persistence.store import CheckpointStore


def queue(
    runtime: Runtime,
    process_class: type[Process],
    inputs: Mapping[str, Any],
    storage: CheckpointStore | None = None,
) -> Process:
    """``queue_many`` of one process."""
    return queue_many(runtime, [(process_class, inputs)], storage)[0]


def queue_many(
    runtime: Runtime,
    submissions: Sequence[tuple[type[Process], Mapping[str, Any]]],
    storage: CheckpointStore | None = None,
) -> list[Process]:
    """Store new processes, write their first checkpoints into the runtime's store (or
    ``storage``) and wake whoever adopts them; the processes, in order.

    A process that caching serves is stored FINISHED as a clone and needs no checkpoint.

    Raises:
        RuntimeClosedError: after ``shutdown``.
        NotImportableError: if a worker could not import a class; nothing is stored.
        InputValidationError: if a process's inputs do not fit; nothing is stored.
        PersistenceError: if the first checkpoints could not all be written: none is left,
            and every process of the batch is stored EXCEPTED with the reason.
    """
    if runtime.is_closed:
        raise RuntimeClosedError(f"{runtime!r} is shut down; create a new Runtime")
    for process_class in dict.fromkeys(process_class for process_class, _inputs in submissions):
        check_importable(process_class)
    check_home(runtime.home, runtime.storage.url)
    processes = [_created(runtime, process_class, inputs) for process_class, inputs in submissions]
    queued = [p for p in processes if launch_cached(runtime, p, None, None) is None]
    if queued:
        _store(runtime, queued)
        _checkpoint(runtime, queued, storage)
        pid = queued[-1].pid
        assert pid is not None
        runtime.notifier.submitted(pid)
    return processes


def _created(runtime: Runtime, process_class: type[Process], inputs: Mapping[str, Any]) -> Process:
    """A new process of ``process_class`` in ``runtime``, its inputs validated."""
    process = process_class(inputs)
    process._runtime = runtime
    return process


def _store(runtime: Runtime, processes: Sequence[Process]) -> None:
    """Store the processes and their new inputs in one write, committed before a worker looks."""
    seen: set[str] = set()
    pks = runtime.backend.write([op for p in processes for op in launch_ops(p, None, seen)])
    for process in processes:
        mark_launched(process, pks)


def _checkpoint(
    runtime: Runtime, processes: Sequence[Process], storage: CheckpointStore | None
) -> None:
    """Write the first checkpoints of ``processes``, all or none; if none, say so on their
    nodes: without a checkpoint no worker will ever run them, and CREATED would last forever."""
    try:
        runtime.checkpoints.write_submitted(processes, storage)
    except BaseException as exc:
        reason = (
            "its first checkpoint could not be written, so it never ran: "
            if len(processes) == 1
            else f"the first checkpoints of its batch of {len(processes)} could not all be "
            "written, so it never ran: "
        )
        runtime.backend.write(
            [
                process.node.set_process_attributes(
                    process_state=ProcessState.EXCEPTED.value, exception=f"{reason}{exc!r}"
                )
                for process in processes
            ]
        )
        raise
