"""Exactly-once children: a step run again after a crash finds the children it had launched.

Every child carries ``call_key`` (``<step index>.<launch index>`` of its caller). A durable
process resumed from a checkpoint may run a step that had begun before the crash; each launch in
that step first looks for a child of its caller with the same key and re-attaches to it instead
of launching a second one:

- the child ended: its node (and, for a blocking call, its stored result) is used as is;
- it has a running checkpoint: it resumes from it, here or in whichever worker holds it;
- it has none (the crash came between its node and its first checkpoint): it starts afresh on
  the node it already has, with the inputs stored for it.

Only the first step after a resume looks: any later step runs for the first time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from actors.call_keys import mark_resumed, replaying
from actors.errors import ActorError, ProcessKilledError
from actors.process_messages import Resume, Start
from persistence import CheckpointMissingError, LockedError
from provenance.log import get_logger
from provenance.process_nodes import ProcessNode
from provenance.process_state import ProcessState
from provenance.records import LinkType

if TYPE_CHECKING:
    from actors.process import Process
    from actors.runtime import Runtime

log = get_logger(__name__)

#: The attribute of a child's node that names it among its caller's launches.
CALL_KEY = "call_key"
#: How long a blocking call waits for another worker to let go of a child it runs.
TAKEOVER_TIMEOUT = 300.0
#: Between two attempts to take a child's checkpoint over from another worker.
TAKEOVER_RETRY = 0.2


def launched_before(caller: Process, key: str) -> ProcessNode | None:
    """The child ``caller`` launched under ``key`` before a crash, if it is replaying a step."""
    if not replaying(caller):
        return None
    if caller._launched_before is None:
        caller._launched_before = {
            str(node.attributes[CALL_KEY]): node
            for node in caller.node.called
            if CALL_KEY in node.attributes
        }
    return caller._launched_before.get(key)


def reattach(
    runtime: Runtime,
    process_class: type[Process],
    caller: Process,
    node: ProcessNode,
    *,
    detached: bool,
) -> tuple[Process, Future[Any]]:
    """Take up the child ``node`` again; return it and the future of its result.

    ``detached`` children (``self.submit``) are awaited through the registry, so one that runs
    elsewhere is left there; a blocking call needs the result here, so it takes the child over.
    """
    pid = node.pk
    assert pid is not None
    log.info("reattach.child", caller=caller.pid, child=pid, key=node.attributes.get(CALL_KEY))
    deadline = time.monotonic() + TAKEOVER_TIMEOUT
    pause = threading.Event()  # never set: its timed wait spaces the takeover attempts
    while True:
        state = _stored_state(runtime, pid)
        if state is not None and state.is_terminal:
            return _ended(process_class, node, state)
        store = runtime.checkpoints.store
        if not runtime.durable or not store.has_checkpoint(pid):
            return _start_on_node(runtime, process_class, caller, node)
        if detached:
            # Its checkpoint is adopted like any other; the caller's barrier waits for its end.
            return _bound(process_class, node, runtime), Future()
        try:
            process = store.take_over(pid)
        except CheckpointMissingError:
            continue  # it ended meanwhile: its node says so now
        except LockedError:
            if time.monotonic() > deadline:
                raise ActorError(
                    f"process {pid}, called by process {caller.pid} before a crash, is still "
                    f"held by another worker after {TAKEOVER_TIMEOUT:g} s"
                ) from None
            pause.wait(TAKEOVER_RETRY)
            continue
        process._runtime = runtime
        mark_resumed(process)
        done = runtime.launcher.start(process, (*caller._call_stack, pid), caller.pid, Resume())
        return process, done


def _stored_state(runtime: Runtime, pid: int) -> ProcessState | None:
    node = runtime.load_node(pid)
    return node.process_state if isinstance(node, ProcessNode) else None


def _bound(process_class: type[Process], node: ProcessNode, runtime: Runtime) -> Process:
    """A process of ``process_class`` on the stored ``node``, with the inputs stored for it."""
    inputs: Mapping[str, Any] = node.get_inputs_dict(link_type=LinkType.INPUT)
    process = process_class(inputs)
    process._node = node
    process._runtime = runtime
    return process


def _ended(
    process_class: type[Process], node: ProcessNode, state: ProcessState
) -> tuple[Process, Future[Any]]:
    done: Future[Any] = Future()
    if state is ProcessState.FINISHED:
        done.set_result(process_class._stored_result(node))
    elif state is ProcessState.KILLED:
        done.set_exception(ProcessKilledError(f"process {node.pk} was killed"))
    else:
        done.set_exception(
            ActorError(f"process {node.pk} excepted before a crash:\n{node.exception or ''}")
        )
    process = process_class.__new__(process_class)
    process._node = node
    return process, done


def _start_on_node(
    runtime: Runtime, process_class: type[Process], caller: Process, node: ProcessNode
) -> tuple[Process, Future[Any]]:
    """Start the child afresh on its stored node: the crash came before its first checkpoint."""
    process = _bound(process_class, node, runtime)
    pid = node.pk
    assert pid is not None
    if runtime.durable:
        runtime.checkpoints.hold(process)
    done = runtime.launcher.start(process, (*caller._call_stack, pid), caller.pid, Start())
    return process, done


__all__ = ["CALL_KEY", "launched_before", "reattach"]
