"""Starting processes in a runtime: validate, store, hold, start the actor, track the result.

The runtime's table of live processes lives here (pid -> node and result future), with the
order a launch follows: the node is written (committed first when the runtime checkpoints, so
a checkpoint never names a row a crash could roll back), then held and checkpointed, then its
actor starts. A caller replaying a step after a crash gets the child it had launched there
instead of a second one (``actors.reattach``).
"""

from __future__ import annotations

import concurrent.futures
import pickle
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import pykka

from actors import call_stack
from actors.caching import launch_cached
from actors.call_keys import mark_resumed, next_call_key
from actors.errors import RuntimeClosedError
from actors.holders import HOLDER
from actors.inline import InlineRun, runs_inline
from actors.process import Process
from actors.process_actor import ProcessActor
from actors.process_messages import Resume, Start
from actors.process_records import launch_ops, mark_launched
from actors.reattach import CALL_KEY, launched_before, reattach
from actors.registry import ChildTerminated, PassivatedProcess, Register
from actors.runtimes import step_runtime
from actors.threads import ROOM, ROOM_TIMEOUT, THREADS
from provenance.log import get_logger
from provenance.process_nodes import ProcessNode
from provenance.process_state import ProcessState

if TYPE_CHECKING:
    from actors.runtime import Runtime

log = get_logger(__name__)

ProcessLike = type[Process] | Callable[..., Any]


def resolve(
    process: ProcessLike, args: tuple[Any, ...], inputs: dict[str, Any]
) -> tuple[type[Process], dict[str, Any]]:
    """The process class of ``process`` (a class or a workfunction) and its inputs by name.

    Raises:
        TypeError: for something that is not a process, or positional inputs to a class.
    """
    target = getattr(process, "process_class", process)
    if isinstance(target, type) and issubclass(target, Process):
        args_to_inputs = getattr(target, "args_to_inputs", None)
        if args_to_inputs is not None:
            return target, args_to_inputs(*args, **inputs)
        if args:
            raise TypeError(
                f"{target.__name__} takes its inputs by name "
                f"({', '.join(target.spec().inputs)}); positional arguments are for "
                "workfunctions only"
            )
        return target, inputs
    raise TypeError(f"cannot run {process!r}: pass a Process subclass or a @workfunction")


class Launcher:
    """Launches the processes of one runtime and keeps the table of those live in it."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._lock = threading.Lock()
        self._live: dict[int, tuple[ProcessNode, Future[Any]]] = {}

    def launch(
        self,
        process_class: type[Process],
        inputs: Mapping[str, Any],
        *,
        caller: Process | None = None,
        detached: bool = False,
        attributes: Mapping[str, Any] | None = None,
        blocking: bool = False,
    ) -> tuple[Process, Future[Any]]:
        """See ``Runtime.launch``; with ``blocking``, the caller waits for the end, so a
        process that can run on its thread (``actors.inline``) has ended on return."""
        runtime = self._runtime
        # While a runtime shuts down, its running processes may still launch children (it waits
        # for them to end), unless it is durable: it then stops them after their current step.
        if runtime.is_closed and (runtime.durable or step_runtime.get() is not runtime):
            raise RuntimeClosedError(f"{runtime!r} is shut down; create a new Runtime")
        if not blocking:
            # Many launched at once (from a loop of user code, or a step submitting children):
            # let those already running reach their first wait or end, where they stop holding
            # a thread. A caller that waits for its launch holds a thread of its own already.
            THREADS.wait_for_room(ROOM, ROOM_TIMEOUT)
        frame = call_stack.current()
        if caller is None and frame is not None and frame.process._runtime is runtime:
            caller = frame.process
        caller_stack = (
            caller._call_stack or (frame.pids if frame is not None else ())
            if caller is not None
            else ()
        )
        key = next_call_key(caller) if caller is not None else None
        if caller is not None and key is not None:
            found = launched_before(caller, key)
            if found is not None:
                return reattach(runtime, process_class, caller, found, detached=detached)
        process = process_class(inputs)
        process._runtime = runtime
        if (cached := launch_cached(runtime, process, caller, key)) is not None:
            return cached
        # It starts at once, so the node is stored RUNNING: one write fewer than CREATED, then
        # RUNNING a moment later.
        launched: dict[str, Any] = {
            "process_state": ProcessState.RUNNING.value,
            HOLDER: runtime.holder,
        }
        if key is not None:
            launched[CALL_KEY] = key
        if attributes:
            launched.update(attributes)
        process.node.change_process_attributes(**launched)
        ops = launch_ops(process, caller.node.uuid if caller is not None else None)
        if runtime.durable:
            # Committed before its checkpoint is written: a checkpoint never names a row that a
            # crash could still roll back.
            # Under the caller's claim: a caller another worker took over launches nothing.
            bound = frame.fence if frame is not None and frame.process is caller else None
            fence = bound if bound is not None else runtime.fence_of_stack(caller_stack)
            mark_launched(process, runtime.backend.write(ops, fence))
            runtime.checkpoints.hold(process)
        else:
            mark_launched(process, runtime.backend.write_applied(ops))
        parent_pid = caller.pid if caller is not None else None
        assert process.pid is not None
        stack = (*caller_stack, process.pid)
        if blocking and runs_inline(runtime, process_class):
            return process, InlineRun(runtime, process, stack).run()
        return process, self.start(process, stack, parent_pid, Start())

    def start(
        self,
        process: Process,
        stack: tuple[int | None, ...],
        parent_pid: int | None,
        first: object,
        *,
        paused: bool = False,
    ) -> Future[Any]:
        """Start the actor of a stored ``process``, register it and tell it ``first``."""
        pid = process.pid
        assert pid is not None
        done: Future[Any] = Future()
        with self._lock:
            self._live[pid] = (process.node, done)
        registry = self._runtime.live_registry

        def register(actor: pykka.ActorRef[Any]) -> None:
            registry.handle(Register(pid, process, actor, parent_pid))

        ProcessActor.start(
            process, self._runtime, stack, done, paused=paused, first=(first,), on_ready=register
        )
        return done

    def resume(self, process: Process, paused: bool) -> None:
        """Start a process adopted from its checkpoint, recording this runtime as its holder."""
        runtime = self._runtime
        if process.pid is not None and self.holds(process.pid):
            # Claimed again while its actor here still runs it (our lease ran out, another
            # worker claimed it without a live lease of its own, and we claimed it back). A
            # second actor would run its steps again; that one writes under the claim it
            # started with, which the database now refuses, so it stops. Let the new claim go
            # too: the next adoption, here or elsewhere, resumes the process once.
            log.warning("launcher.resume_of_a_live_process", pid=process.pid)
            if runtime.shared_database:
                runtime.release_checkpoint(process.pid)
            return
        process._runtime = runtime
        mark_resumed(process)
        runtime.backend.write_nowait(
            [process.node.set_process_attributes(**{HOLDER: runtime.holder})]
        )
        self.start(process, (process.pid,), None, Resume(), paused=paused)

    def revive(
        self, entry: PassivatedProcess, held: tuple[ChildTerminated, ...]
    ) -> tuple[Process, Any]:
        """Recreate a passivated process and start its actor, which handles ``held`` (ends it
        was woken for) first; runs under the registry's lock."""
        runtime = self._runtime
        with runtime.bound():  # node reads, if any, go to this runtime's database
            process = entry.process_class.load_instance_state(pickle.loads(entry.state))
        process._runtime = runtime
        with self._lock:
            done = self._live[entry.pid][1]
        actor = ProcessActor.start(
            process, runtime, entry.stack, done, paused=entry.paused, first=held
        )
        return process, actor

    def track(self, pid: int, node: ProcessNode, done: Future[Any]) -> None:
        """Hold ``pid`` in the table while it runs without an actor (``actors.inline``)."""
        with self._lock:
            self._live[pid] = (node, done)

    def holds(self, pid: int) -> bool:
        """True if process ``pid`` is live here."""
        with self._lock:
            return pid in self._live

    def wait(self, pid: int, timeout: float | None) -> bool:
        """Wait for live ``pid`` to end; True if it has (or was not live here)."""
        with self._lock:
            entry = self._live.get(pid)
        if entry is None:
            return True
        return bool(concurrent.futures.wait([entry[1]], timeout=timeout).done)

    def pending(self) -> list[Future[Any]]:
        """The result futures of every live process."""
        with self._lock:
            return [done for _node, done in self._live.values()]

    def live(self) -> list[int]:
        """The pids live here."""
        with self._lock:
            return list(self._live)

    def forget(self, pid: int, done: Future[Any] | None = None) -> None:
        """``pid`` ended or left: drop its entry (only if it is the one whose result future is
        ``done``, if given: an actor superseded by a newer one for the same pid leaves it)."""
        with self._lock:
            entry = self._live.get(pid)
            if entry is not None and (done is None or entry[1] is done):
                del self._live[pid]

    def forget_all(self) -> list[tuple[int, Future[Any]]]:
        """Drop every live entry; return their pids and result futures."""
        with self._lock:
            entries = [(pid, done) for pid, (_node, done) in self._live.items()]
            self._live.clear()
        return entries
