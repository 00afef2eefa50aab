"""``ProcessDriver``: decides what one process does next; its actor only carries it out.

The driver turns each event (a message of its actor, or the outcome of a command it asked for)
into a list of commands, and does no I/O of its own but run the process's steps. Its actor
executes the commands in the order given; a command that has an outcome (``Subscribe``, a failed
``Checkpoint``) hands it back to the driver as an event, and the driver's answer replaces what
was left of the list. The driver always orders them so that:

    provenance committed  ->  checkpoint fsynced  ->  anyone told

``Checkpoint`` commits the provenance written before it, then writes the checkpoint; it comes
before every ``RequestStep``, ``Passivate`` or ``End`` that could let another process (or a
restart) act on the new state. ``End`` stores the end committed, then retires the checkpoint,
then publishes the end. Every state change goes through ``_enter`` (the one place that records
one), so no path forgets to store a state. The commands and events themselves are records of
their own module (``actors.driver_messages``); they stay importable from here.

Models: Temporal's workflow instance (``activate(activation) -> completion``) and aiida-core's
``Process.on_entered``.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from actors.call_keys import begin_step
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
from actors.errors import (
    OutputValidationError,
    ProcessKilledError,
    RuntimeClosedError,
    WaitError,
)
from actors.process_messages import Continue, Kill, Pause, Play, Resume, Start, Suspend
from actors.registry_messages import ChildTerminated
from actors.spec import ExitCode
from actors.step_outcomes import StepContinue, StepDone, StepOutcome, StepWait
from provenance.errors import DatabaseUnavailableError, FencedError
from provenance.log import get_logger
from provenance.outages import outage_of
from provenance.process_state import ProcessState

if TYPE_CHECKING:
    from actors.process import Process

log = get_logger(__name__)

StepContext = Callable[[], AbstractContextManager[Any]]


class ProcessDriver:
    """Owns one process's life: its state, whether it is paused, what comes next.

    Args:
        process: the launched process.
        step_context: what a step runs inside (the call stack, the runtime in use, logging).
        durable: checkpoint after every step; targets not live here may run elsewhere.
        paused: start paused (an intent applied on adoption).
        shared: durable in a database other workers share, which resume the process from its
            checkpoint when this one lets go of it.
    """

    def __init__(
        self,
        process: Process,
        step_context: StepContext,
        *,
        durable: bool,
        paused: bool,
        shared: bool = False,
    ) -> None:
        self.process = process
        self.paused = paused
        self._step_context = step_context
        self._durable = durable
        self._shared = durable and shared
        self._step_pending = False
        self._suspended = False
        #: What the last wait was for: the registry passivates a waiter only while every one
        #: of them is still to end, so that no end is lost in the mailbox of a stopped actor.
        self._waiting_for: frozenset[int] = frozenset()

    @property
    def over(self) -> bool:
        """True once the process ended or was left to its checkpoint: events are ignored."""
        return self._suspended or self.process.state.is_terminal

    def started(self) -> list[Command]:
        """What the actor does when it starts: show a process that starts paused as paused."""
        return self._record(paused=True) if self.paused else []

    def handle(self, event: object) -> list[Command]:  # noqa: PLR0911, PLR0912 - one per event
        """The commands that ``event`` calls for, in the order they must be carried out."""
        if self.over:
            log.debug("process.event_after_end", pid=self.process.pid, received=repr(event))
            return []
        match event:
            case Start():
                return [*self._enter(ProcessState.RUNNING), *self._step_unless_paused()]
            case Continue():
                self._step_pending = False
                return self._step_unless_paused()
            case ChildTerminated(pid=child, state=state):
                if not self.process._child_terminated(child, state):
                    return []
                return [*self._enter(ProcessState.RUNNING), *self._request_step()]
            case Resume():
                return self._resume()
            case Suspend():
                self._suspended = True
                return [Stop()]
            case Pause():
                return self._set_paused(True)
            case Play():
                commands = self._set_paused(False)
                return [*commands, *self._request_step()] if self._step_pending else commands
            case Kill(message=text):
                return self._kill(text)
            case Subscribed():
                return self._subscribed(event)
            case CheckpointFailed(error=error) if isinstance(error, FencedError):
                log.warning("process.claim_lost", pid=self.process.pid, error=str(error))
                self._suspended = True
                return [Drop(error)]
            case CheckpointFailed(error=error) if isinstance(error, DatabaseUnavailableError):
                log.warning("process.step_lost", pid=self.process.pid, error=str(error))
                self._suspended = True
                return [Drop(error, release=True)]
            case CheckpointFailed(error=error):
                log.error("process.checkpoint_failed", pid=self.process.pid, error=str(error))
                return self._except(error, checkpoint=False)
            case _:
                log.warning("process.unknown_event", pid=self.process.pid, received=repr(event))
                return []

    def interrupted(self, error: BaseException) -> list[Command]:
        """The thread driving the process was interrupted (a ``KeyboardInterrupt`` in a
        blocking run on the caller's thread): end EXCEPTED with ``error``."""
        return [] if self.over else self._except(error)

    # Recording: the one place a state change is recorded.

    def _enter(self, state: ProcessState) -> list[Command]:
        process = self.process
        if process.state is state:
            return []
        process._machine.transition_to(state)
        if state.is_terminal:
            return []  # the end is recorded by End, with the outputs, in one committed write
        if process.node.attributes.get("process_state") == state.value:
            return []  # stored so already (a launched process is stored RUNNING)
        return self._record(process_state=state.value)

    def _record(self, **attributes: Any) -> list[Command]:
        return [Record((self.process.node.set_process_attributes(**attributes),))]

    def _set_paused(self, paused: bool) -> list[Command]:
        if self.paused == paused:
            return []
        self.paused = paused
        return self._record(paused=paused or None)

    # Stepping.

    def _request_step(self) -> list[Command]:
        if self.paused:
            self._step_pending = True
            return []
        return [RequestStep()]

    def _step_unless_paused(self) -> list[Command]:
        if self.paused:
            self._step_pending = True
            return []
        return self._step()

    def _resume(self) -> list[Command]:
        state = self.process.state
        if state is ProcessState.CREATED:
            return self.handle(Start())
        if state is ProcessState.WAITING:
            return self._wait(self.process._waiting_on)
        return self._request_step()

    def _step(self) -> list[Command]:
        process = self.process
        try:
            with self._step_context():
                begin_step(process)
                outcome: StepOutcome = process._step()
        except Exception as exc:
            return self._step_failed(exc)
        if process._kill_requested is not None:
            return self._kill(process._kill_requested[0])
        match outcome:
            case StepContinue():
                return [Checkpoint(), *self._request_step()]
            case StepWait(on=pids):
                return self._wait(pids)
            case StepDone(exit_code=exit_code):
                return self._finish(exit_code)

    def _step_failed(self, exc: Exception) -> list[Command]:
        """A step raised ``exc``: the process excepted, unless the runtime cut the step off."""
        if isinstance(exc, RuntimeClosedError) and self._durable:
            # The step launched a child while the durable runtime was shutting down: it is
            # cut off, and runs again from the last checkpoint when the process is resumed.
            log.info("process.step_cut_off", pid=self.process.pid)
            self._suspended = True
            return [Stop()]
        if self._shared:
            outage = outage_of(exc)
            if outage is not None:
                # The database failed the step (a launch's write, a read of a child's outputs
                # while the server restarts), not the process: left to its checkpoint as
                # after a failed checkpoint, the step runs again and re-attaches to the
                # children it launched (``actors.reattach``).
                return self.handle(CheckpointFailed(outage))
        return self._except(exc)

    # Waiting.

    def _wait(self, pids: frozenset[int]) -> list[Command]:
        self._waiting_for = pids
        return [*self._enter(ProcessState.WAITING), Subscribe(pids, remote=self._durable)]

    def _subscribed(self, answer: Subscribed) -> list[Command]:
        """Go on at once if the targets not live here have ended; else wait, written out."""
        commands: list[Command] = []
        for pid, seen, stored, error in sorted(answer.gone, key=lambda entry: entry[0]):
            if error is not None:
                return self._except(WaitError(error))
            state = seen or stored
            if state is None and not self._durable:
                return self._except(
                    WaitError(
                        f"cannot wait on process {pid}: it has not ended but is not running in "
                        "this runtime, so its end would never be seen here"
                    )
                )
            if state is not None and seen is None and self._durable:
                # Subscribed in case it ran elsewhere; it has ended, so drop that subscription.
                commands.append(Unsubscribe(pid))
            if state is not None and self.process._child_terminated(pid, state):
                return [
                    *commands,
                    *self._enter(ProcessState.RUNNING),
                    Checkpoint(),
                    *self._request_step(),
                ]
        waiting_on = self.process._waiting_on or self._waiting_for
        return [*commands, Checkpoint(), Passivate(waiting_on)]

    # Ending.

    def _finish(self, exit_code: ExitCode) -> list[Command]:
        process = self.process
        if exit_code.status == 0:
            missing = process.spec().missing_outputs(process.outputs)
            if missing:
                return self._except(
                    OutputValidationError(
                        f"{process.process_label()} finished without its required outputs "
                        f"{', '.join(missing)}"
                    )
                )
        try:
            # Before the state moves: an end that cannot be recorded (an exit status the
            # database refuses, a bug in an override) ends the process EXCEPTED instead.
            process._call_on_finish(exit_code)
        except Exception as exc:
            return self._except(exc)
        self._enter(ProcessState.FINISHED)
        return [End(ProcessState.FINISHED, None)]

    def _except(self, exc: BaseException, *, checkpoint: bool = True) -> list[Command]:
        self._enter(ProcessState.EXCEPTED)
        self.process._call_on_except("".join(traceback.format_exception(exc)))
        return [End(ProcessState.EXCEPTED, exc, checkpoint)]

    def _kill(self, text: str | None) -> list[Command]:
        pid = self.process.pid
        self._enter(ProcessState.KILLED)
        message = f"killed: {text}" if text else "killed"
        self.process._call_on_kill(text)
        return [
            KillChildren(f"its caller, process {pid}, was {message}"),
            End(ProcessState.KILLED, ProcessKilledError(f"process {pid} {message}")),
        ]


__all__ = [
    "Checkpoint",
    "CheckpointFailed",
    "Command",
    "Drop",
    "End",
    "Event",
    "KillChildren",
    "Passivate",
    "ProcessDriver",
    "Record",
    "RequestStep",
    "Stop",
    "Subscribe",
    "Subscribed",
    "Unsubscribe",
    "gone_entry",
]
