"""``ProcessActor``: one per live process, the thin I/O shell around its ``ProcessDriver``.

Each message is handed to the driver, and the commands it answers with are carried out here in
order (``actors.driver`` says why that order). Between two messages the mailbox is read, so
kill, pause and child notifications interleave with the steps.
"""

from __future__ import annotations

import pickle
import sys
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import pykka

from actors import registry_messages as to_registry
from actors.driver import ProcessDriver
from actors.driver_messages import (
    Checkpoint,
    CheckpointFailed,
    Command,
    Drop,
    End,
    Event,
    KillChildren,
    Passivate,
    Record,
    RequestStep,
    Stop,
    Subscribe,
    Subscribed,
    Unsubscribe,
    gone_entry,
)
from actors.errors import WaitError
from actors.process import Process
from actors.process_messages import Continue, Kill, Pause, Play, Resume, Start, Suspend
from actors.process_records import mark_terminated, termination_ops
from actors.runtimes import step_scope
from actors.threads import THREADS
from provenance.errors import (
    DatabaseUnavailableError,
    FencedError,
    NotExistentError,
    StorageError,
)
from provenance.log import get_logger
from provenance.outages import outage_of
from provenance.process_nodes import ProcessNode, stored_process_states
from provenance.process_state import ProcessState

if TYPE_CHECKING:
    from actors.registry import Registry
    from actors.runtime import Runtime

log = get_logger(__name__)


class ProcessActor(pykka.ThreadingActor):
    """Carries out what the driver of one process decides."""

    #: Daemon threads let the interpreter reach atexit, where the runtime shuts down cleanly.
    use_daemon_thread = True

    def __init__(
        self,
        process: Process,
        runtime: Runtime,
        stack: tuple[int, ...],
        done: Future[Any],
        *,
        paused: bool = False,
        first: tuple[object, ...] = (),
        on_ready: Callable[[pykka.ActorRef[Any]], None] | None = None,
    ) -> None:
        super().__init__()
        self._process = process
        self._runtime = runtime
        self._stack = stack
        process._call_stack = stack
        self._done = done
        self._first = first
        self._on_ready = on_ready
        self._driver = ProcessDriver(
            process,
            self._step_context,
            durable=runtime.durable,
            paused=paused,
            shared=runtime.shared_database,
        )
        #: The claim this actor runs the process under, for all it writes: a later claim of
        #: the same process (here, after this one was found lost) belongs to a newer actor.
        self._fence = runtime.fence_of(process.pid)

    def _start_actor_loop(self) -> None:
        """Make the actor known (``on_ready``: registered) before it can act, then run its
        loop on a reused thread (pykka starts a new one per actor)."""
        if self._on_ready is not None:
            self._on_ready(self.actor_ref)
        THREADS.run(self._actor_loop)

    def on_start(self) -> None:
        """Carry out what a start calls for, then the first events (a start, a resume, the
        ends a revived waiter was held for) before any message: runs on the actor's thread.
        """
        try:
            self._execute(self._driver.started())
            for event in self._first:
                self._execute(self._driver.handle(event))
        except Exception:
            self.on_failure(*sys.exc_info())  # pykka does not call it for on_start
            raise

    def on_failure(
        self,
        exception_type: type[BaseException] | None,
        exception_value: BaseException | None,
        traceback: Any,
    ) -> None:
        """A bug in the engine stopped this actor (runs on its thread): do not leave a blocking
        ``run`` waiting forever."""
        del exception_type, traceback
        log.error("process.actor_failed", pid=self._process.pid, error=repr(exception_value))
        if not self._done.done():
            self._done.set_exception(exception_value or RuntimeError("process actor failed"))
        self._runtime.launcher.forget(self._pid, self._done)

    @property
    def _registry(self) -> Registry:
        return self._runtime.live_registry

    @property
    def _pid(self) -> int:
        pid = self._process.pid
        assert pid is not None, "a process actor only ever holds a launched process"
        return pid

    def on_receive(self, message: Any) -> None:
        """Hand one message to the driver and carry out its answer (runs on the actor's
        thread)."""
        self._execute(self._driver.handle(message))

    def _step_context(self) -> AbstractContextManager[None]:
        """What a step runs inside: this runtime in use, this process on the call stack, and
        its pid bound to every log line."""
        return step_scope(self._runtime, self._process, self._stack, self._fence)

    # Carrying out commands.

    def _execute(self, commands: list[Command]) -> None:
        """Carry out ``commands`` in order; a command's outcome goes back to the driver, whose
        answer replaces the rest."""
        pending = deque(commands)
        while pending:
            outcome = self._carry_out_or_let_go(pending.popleft())
            if outcome is not None:
                pending = deque(self._driver.handle(outcome))

    def _carry_out_or_let_go(self, command: Command) -> Event | None:
        """``_carry_out``; a command the database failed (a read of awaited ends, during a
        restart of a shared one) leaves the process to its checkpoint, as a failed checkpoint
        does, instead of failing the actor and keeping its claim with nobody running it."""
        try:
            return self._carry_out(command)
        except Exception as exc:
            if not (self._runtime.durable and self._runtime.shared_database):
                raise
            outage = outage_of(exc)
            if outage is None:
                raise
            return CheckpointFailed(outage)

    def _carry_out(self, command: Command) -> Event | None:
        match command:
            case Record(ops=ops):
                self._runtime.backend.write_nowait(ops, self._fence)
            case Checkpoint():
                return self._checkpoint()
            case Subscribe(pids=pids, remote=remote):
                return self._subscribe(pids, remote=remote)
            case Unsubscribe(pid=target):
                self._registry.handle(to_registry.Unsubscribe(self._pid, target))
            case Passivate(waiting_on=waiting_on):
                self._passivate(waiting_on)
            case RequestStep():
                if self._runtime.durable and self._runtime.is_closed:
                    # Shutting down: stop after the step in progress even if the runtime's
                    # Suspend has not arrived yet; the checkpoint holds the next step.
                    return Suspend()
                if self.actor_inbox.empty():
                    return Continue()  # nothing to let through first: step on at once
                self.actor_ref.tell(Continue())
            case KillChildren(message=text):
                self._registry.handle(to_registry.KillChildren(self._pid, text))
            case End(state=state, error=error, checkpoint=checkpoint):
                self._end(state, error, checkpoint=checkpoint)
            case Stop():
                self.stop()
            case Drop(error=error, release=release):
                self._drop(error, release=release)
        return None

    def _checkpoint(self) -> Event | None:
        """Durable runtimes: provenance committed, then the checkpoint fsynced, so that a
        checkpoint never refers to a state or a row that a crash could still undo (the
        checkpoint writer syncs the provenance before each batch it writes)."""
        if not self._runtime.durable:
            return None
        if self._superseded():
            return CheckpointFailed(
                FencedError(
                    f"process {self._pid} was claimed again since this actor started; the "
                    "newer claim's actor runs it"
                )
            )
        try:
            self._runtime.save_checkpoint(self._process)
        except DatabaseUnavailableError as exc:
            if self._runtime.shared_database:  # another worker, or this one, resumes it
                return CheckpointFailed(exc)
            return CheckpointFailed(StorageError(str(exc)))  # its own runtime alone: it ends
        except Exception as exc:
            # The shared store's own connection failing (past its retries) is an outage too.
            outage = outage_of(exc) if self._runtime.shared_database else None
            return CheckpointFailed(outage or exc)
        return None

    def _superseded(self) -> bool:
        """This store holds the process under another claim than the one this actor started
        with (or none): the checkpoint, and the claim, are no longer this actor's."""
        return self._fence is not None and self._runtime.fence_of(self._pid) != self._fence

    def _subscribe(self, pids: frozenset[int], *, remote: bool) -> Event:
        gone: dict[int, ProcessState | None] = self._registry.handle(
            to_registry.Subscribe(self._pid, pids, remote=remote)
        )
        # The targets that ended unseen (past the registry's memory of ended children: most
        # of a large fan-out) are read together, not one load_node each.
        with self._runtime.bound():
            stored = stored_process_states([pid for pid, seen in gone.items() if seen is None])

        def read(pid: int) -> ProcessState | None:
            state = stored.get(pid)
            if state is None:
                return self._stored_end(pid)  # says why it cannot be awaited, or finds it late
            return state if state.is_terminal else None

        return Subscribed(tuple(gone_entry(pid, seen, read) for pid, seen in gone.items()))

    def _stored_end(self, pid: int) -> ProcessState | None:
        """The stored state of a process that is not live here if it ended, else None.

        Raises:
            WaitError: if there is no such process.
        """
        try:
            node = self._runtime.load_node(pid)
        except NotExistentError as exc:
            raise WaitError(f"cannot wait on process {pid}: {exc}") from exc
        state = node.process_state if isinstance(node, ProcessNode) else None
        if state is None:
            raise WaitError(f"cannot wait on node {pid}: {node!r} is not a process")
        return state if state.is_terminal else None

    def _passivate(self, waiting_on: frozenset[int]) -> None:
        """Write the waiting process out and stop this actor, if the registry agrees; the
        registry revives the process when its last awaited child ends (or a control comes)."""
        if not self._runtime.passivation:
            return
        process = self._process
        try:
            state = pickle.dumps(
                process.save_instance_state(nodes_by_value=True), pickle.HIGHEST_PROTOCOL
            )
        except Exception as exc:
            # Best effort: a process that cannot be written out keeps its actor and its thread.
            log.info("process.not_passivated", pid=self._pid, reason=repr(exc))
            return
        paused = self._driver.paused
        entry = to_registry.PassivatedProcess(self._pid, type(process), state, self._stack, paused)
        if self._registry.handle(to_registry.Passivate(entry, waiting_on)):
            self.stop()

    def _end(self, state: ProcessState, error: BaseException | None, *, checkpoint: bool) -> None:
        """Store the end (committed), retire or release the checkpoint, then tell: the
        registry (subscribers, other workers) and the caller's future. Then stop."""
        process = self._process
        try:
            ops = termination_ops(process)
            pks = self._runtime.backend.write(ops, self._fence)
            mark_terminated(process, pks)
        except FencedError as exc:
            self._drop(exc)  # another worker runs it now: its end is that worker's to record
            return
        except DatabaseUnavailableError as exc:
            if self._runtime.durable and self._runtime.shared_database:
                self._drop(exc, release=True)  # the end was lost: resume from the checkpoint
                return
            log.error("process.end_not_stored", pid=self._pid, state=state.name, error=str(exc))
            error = error or exc
        except StorageError as exc:
            log.error("process.end_not_stored", pid=self._pid, state=state.name, error=str(exc))
            error = error or exc
        except Exception as exc:  # no record to write: an output's data type failed to give it
            state, error, checkpoint = ProcessState.EXCEPTED, exc, False
            self._record_unstorable_end(exc)
        if checkpoint and self._runtime.durable:
            # After the end is committed: a crash in between leaves a running checkpoint whose
            # node has ended, which adoption retires instead of running again.
            try:
                self._runtime.save_checkpoint(process)
            except Exception as exc:
                log.error("process.final_checkpoint_failed", pid=self._pid, error=str(exc))
                self._runtime.release_checkpoint(self._pid)
        elif self._runtime.durable:
            self._runtime.release_checkpoint(self._pid)
        self._registry.handle(to_registry.Terminated(self._pid, state))
        self._runtime.launcher.forget(self._pid, self._done)
        if error is not None:
            self._done.set_exception(error)
        else:
            try:
                self._done.set_result(process._result())
            except Exception as exc:
                self._done.set_exception(exc)
        self._stop_now()

    def _record_unstorable_end(self, exc: Exception) -> None:
        """Record the process EXCEPTED, saying why its end could not be stored: else it showed
        RUNNING forever and a work chain awaiting it waited forever. A durable one's
        checkpoint is released, and the next adoption retires it as failed."""
        log.error("process.end_not_storable", pid=self._pid, error=repr(exc))
        update = self._process.node.set_process_attributes(
            process_state=ProcessState.EXCEPTED.value,
            exception=f"the end of the process could not be stored: {exc!r}",
        )
        try:
            self._runtime.backend.write([update], self._fence)
        except Exception as again:
            log.error("process.end_not_stored", pid=self._pid, error=repr(again))

    def _stop_now(self) -> None:
        """Stop without a message to itself: the process has ended, so what is left in the
        mailbox is dropped (an ``ask`` there gets ``ActorDeadError``, as one sent a moment later
        would), which is all the driver would have done with it."""
        self._stop()

    def _drop(self, error: BaseException, *, release: bool = False) -> None:
        """Leave the process to the worker that claimed it since (or, with ``release``, to
        whoever claims it next from its last checkpoint): forget it here, write nothing more
        for it, fail its future, stop."""
        release = release and not self._superseded()  # never the newer claim
        log.warning("process.dropped", pid=self._pid, reason=str(error), released=release)
        if release:
            try:
                self._runtime.release_checkpoint(self._pid)
            except Exception as exc:  # the store keeps trying; the lease ends with us anyway
                log.error("process.release_failed", pid=self._pid, error=str(exc))
        self._registry.handle(to_registry.Forget(self._pid, self.actor_ref))
        self._runtime.launcher.forget(self._pid, self._done)
        if not self._done.done():
            self._done.set_exception(error)
        self.stop()


__all__ = [
    "THREADS",
    "Continue",
    "Kill",
    "Pause",
    "Play",
    "ProcessActor",
    "Resume",
    "Start",
    "Suspend",
]
