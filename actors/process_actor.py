"""``ProcessActor``: one per live process; it advances its process one step per message.

Between two steps the mailbox is read, so kill, pause and child notifications interleave with
the work. The actor writes provenance through the provenance actor and publishes the
termination to the registry exactly once.
"""

from __future__ import annotations

import contextlib
import pickle
import threading
import traceback
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pykka

from actors.errors import (
    OutputValidationError,
    ProcessKilledError,
    RuntimeClosedError,
    WaitError,
)
from actors.process import Process, StepContinue, StepDone, StepOutcome, StepWait
from actors.registry import (
    ChildTerminated,
    ClearStack,
    KillChildren,
    Passivate,
    PassivatedProcess,
    SetStack,
    Subscribe,
    Terminated,
    Unsubscribe,
    ask,
)
from actors.spec import ExitCode
from actors.threads import ReusableThreads
from provenance.errors import NotExistentError, StorageError
from provenance.log import get_logger
from provenance.logs import bound_process
from provenance.process_nodes import ProcessNode
from provenance.process_state import ProcessState

if TYPE_CHECKING:
    from actors.runtime import Runtime

log = get_logger(__name__)

#: The threads every process actor runs on, in this Python process.
THREADS = ReusableThreads("ProcessActor")


@dataclass(frozen=True, slots=True)
class Start:
    """Begin: CREATED -> RUNNING and run the first step."""


@dataclass(frozen=True, slots=True)
class Continue:
    """Run the next step."""


@dataclass(frozen=True, slots=True)
class Pause:
    """Run no further step until ``Play``."""


@dataclass(frozen=True, slots=True)
class Play:
    """Resume after ``Pause``."""


@dataclass(frozen=True, slots=True)
class Resume:
    """Go on from a checkpoint: begin, run the next step, or wait again for what was awaited."""


@dataclass(frozen=True, slots=True)
class Suspend:
    """Run no further step and stop, leaving the process to its last checkpoint (a durable
    runtime shutting down). Sent with ``ask``: the answer comes once the step in progress (if
    any) has ended and been checkpointed."""


@dataclass(frozen=True, slots=True)
class Kill:
    """End the process KILLED before its next step."""

    message: str | None = None


class ProcessActor(pykka.ThreadingActor):
    """Drives one ``Process``."""

    #: Daemon threads let the interpreter reach atexit, where the runtime shuts down cleanly.
    use_daemon_thread = True

    def _start_actor_loop(self) -> None:
        """Run the actor loop on a reused thread (pykka starts a new one per actor)."""
        THREADS.run(self._actor_loop)

    def __init__(
        self,
        process: Process,
        runtime: Runtime,
        stack: tuple[int, ...],
        done: Future[Any],
        *,
        paused: bool = False,
    ) -> None:
        super().__init__()
        self._process = process
        self._runtime = runtime
        self._stack = stack
        process._call_stack = stack
        self._done = done
        self._paused = paused
        self._step_pending = False
        self._suspended = False

    def on_start(self) -> None:
        """Tell the registry this thread's call stack, once: every step of this process runs on
        this thread. Show a process that starts paused (an intent applied on adoption) as
        paused. Runs on the actor's thread."""
        self._runtime.registry.tell(SetStack(threading.get_ident(), self._stack))
        if self._paused:
            update = self._process.node.set_process_attributes(paused=True)
            self._runtime.backend.write_nowait([update])

    def on_stop(self) -> None:
        """Drop this thread's call stack: the thread ends, and its id may be reused by another
        thread that must not inherit it. Runs on the actor's thread."""
        with contextlib.suppress(pykka.ActorDeadError):  # the runtime already shut down
            self._runtime.registry.tell(ClearStack(threading.get_ident()))

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
        self._runtime._forget(self._pid)

    @property
    def _pid(self) -> int:
        pid = self._process.pid
        assert pid is not None, "a process actor only ever holds a launched process"
        return pid

    def on_receive(self, message: Any) -> None:  # noqa: PLR0912 - a branch per message
        """Handle one message (runs on the actor's thread)."""
        if self._process.state.is_terminal or self._suspended:
            log.debug("process.message_after_end", pid=self._pid, message=repr(message))
            return
        match message:
            case Start():
                self._transition(ProcessState.RUNNING)
                if self._paused:
                    self._step_pending = True
                else:
                    self._run_step()
            case Continue():
                self._step_pending = False
                if not self._paused:
                    self._run_step()
                else:
                    self._step_pending = True
            case ChildTerminated(pid=child, state=state):
                if self._process.child_terminated(child, state):
                    self._transition(ProcessState.RUNNING)
                    self._request_step()
            case Resume():
                self._resume()
            case Suspend():
                self._suspend()
            case Pause():
                self._set_paused(True)
            case Play():
                self._set_paused(False)
                if self._step_pending:
                    self._request_step()
            case Kill(message=text):
                self._kill(text)
            case _:
                log.warning("process.unknown_message", pid=self._pid, message=repr(message))

    def _resume(self) -> None:
        state = self._process.state
        if state is ProcessState.CREATED:
            self.on_receive(Start())
        elif state is ProcessState.WAITING:
            self._wait(self._process.waiting_on)
        else:
            self._request_step()

    def _suspend(self) -> None:
        """Leave the process to its last checkpoint: later messages (a ``Continue`` already
        queued) are ignored, and the actor stops."""
        self._suspended = True
        self.stop()

    def _set_paused(self, paused: bool) -> None:
        if self._paused == paused:
            return
        self._paused = paused
        update = self._process.node.set_process_attributes(paused=paused or None)
        self._runtime.backend.write_nowait([update])

    def _checkpoint(self) -> bool:
        """In a durable runtime, write the checkpoint and wait for it; False if that failed
        (the process then ended EXCEPTED)."""
        if not self._runtime.durable:
            return True
        try:
            self._runtime.save_checkpoint(self._process)
        except Exception as exc:
            log.error("process.checkpoint_failed", pid=self._pid, error=str(exc))
            self._except(exc, checkpoint=False)
            return False
        return True

    def _request_step(self) -> None:
        if self._paused:
            self._step_pending = True
        else:
            self.actor_ref.tell(Continue())

    def _transition(self, state: ProcessState) -> None:
        if self._process.state is state:
            return
        self._process._machine.transition_to(state)
        node = self._process.node
        if node.attributes.get("process_state") == state.value:
            return  # stored so already (a launched process is stored RUNNING)
        update = node.set_process_attributes(process_state=state.value)
        self._runtime.backend.write_nowait([update])

    def _run_step(self) -> None:
        token = self._runtime._enter_step()
        try:
            with bound_process(self._pid, id(self._runtime)):
                outcome: StepOutcome = self._process.step()
        except Exception as exc:
            if isinstance(exc, RuntimeClosedError) and self._runtime.durable:
                # The step launched a child while the durable runtime was shutting down: it is
                # cut off, and runs again from the last checkpoint when the process is resumed.
                log.info("process.step_cut_off", pid=self._pid)
                self._suspend()
            else:
                self._except(exc)
            return
        finally:
            self._runtime._leave_step(token)
        match outcome:
            case StepContinue():
                if self._checkpoint():
                    self._request_step()
            case StepWait(on=pids):
                self._wait(pids)
            case StepDone(exit_code=exit_code):
                self._finish(exit_code)

    def _wait(self, pids: frozenset[int]) -> None:
        """Subscribe to the termination of ``pids``; checkpoint and passivate if still waiting.

        In a durable runtime a target that is neither live here nor terminated runs in another
        worker: the registry keeps the subscription until that worker's notice arrives.
        """
        self._transition(ProcessState.WAITING)
        durable = self._runtime.durable
        gone: dict[int, ProcessState | None] = ask(
            self._runtime.registry, Subscribe(self._pid, pids, remote=durable)
        )
        for pid, seen_state in sorted(gone.items()):
            try:
                state = seen_state or self._stored_state(pid)
                if state is None and not durable:
                    raise WaitError(
                        f"cannot wait on process {pid}: it has not ended but is not running in "
                        "this runtime, so its end would never be seen here"
                    )
            except WaitError as exc:
                self._except(exc)
                return
            if state is not None and seen_state is None and durable:
                # Subscribed in case it ran elsewhere; it has ended, so drop that subscription.
                self._runtime.registry.tell(Unsubscribe(self._pid, pid))
            if state is not None and self._process.child_terminated(pid, state):
                self._transition(ProcessState.RUNNING)
                if self._checkpoint():
                    self._request_step()
                return
        if self._checkpoint():
            self._passivate(self._process.waiting_on or pids)

    def _stored_state(self, pid: int) -> ProcessState | None:
        """The stored state of a process that is not live here if it ended, else None."""
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
        registry revives the process when a message for it comes."""
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
        entry = PassivatedProcess(self._pid, type(process), state, self._stack, self._paused)
        if ask(self._runtime.registry, Passivate(entry, waiting_on)):
            self.stop()

    def _finish(self, exit_code: ExitCode) -> None:
        process = self._process
        if exit_code.status == 0:
            missing = process.spec().missing_outputs(process.outputs)
            if missing:
                self._except(
                    OutputValidationError(
                        f"{process.process_label()} finished without its required outputs "
                        f"{', '.join(missing)}"
                    )
                )
                return
        process._machine.transition_to(ProcessState.FINISHED)
        process.on_finish(exit_code)
        self._terminate(ProcessState.FINISHED, None)

    def _except(self, exc: BaseException, *, checkpoint: bool = True) -> None:
        process = self._process
        process._machine.transition_to(ProcessState.EXCEPTED)
        process.on_except("".join(traceback.format_exception(exc)))
        self._terminate(ProcessState.EXCEPTED, exc, checkpoint=checkpoint)

    def _kill(self, text: str | None) -> None:
        process = self._process
        process._machine.transition_to(ProcessState.KILLED)
        message = f"killed: {text}" if text else "killed"
        self._runtime.registry.tell(
            KillChildren(self._pid, f"its caller, process {self._pid}, was {message}")
        )
        process.on_kill(text)
        self._terminate(ProcessState.KILLED, ProcessKilledError(f"process {self._pid} {message}"))

    def _terminate(
        self, state: ProcessState, error: BaseException | None, *, checkpoint: bool = True
    ) -> None:
        """Store the end, retire the checkpoint, publish the end once, stop."""
        process = self._process
        try:
            pks = self._runtime.backend.write(process.termination_ops())
            process.mark_terminated(pks)
        except StorageError as exc:
            log.error("process.end_not_stored", pid=self._pid, state=state.name, error=str(exc))
            error = error or exc
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
        # The thread's call stack goes with the end, so nothing of this process is left in the
        # registry once a blocking run returns.
        self._runtime.registry.tell(Terminated(self._pid, state, threading.get_ident()))
        self._runtime._forget(self._pid)
        if error is not None:
            self._done.set_exception(error)
        else:
            try:
                self._done.set_result(process.result())
            except Exception as exc:
                self._done.set_exception(exc)
        self.stop()


__all__ = ["Continue", "Kill", "Pause", "Play", "ProcessActor", "Resume", "Start", "Suspend"]
