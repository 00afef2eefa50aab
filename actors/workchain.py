"""``WorkChain``: a process whose work is an outline of steps, with children awaited between them.

A work chain holds no thread while it waits. A step that launched children ends; the engine
subscribes to their termination with the registry and the work chain goes WAITING (and may be
passivated). When the last awaited child has terminated, the next step runs with ``ctx`` filled
as the intersteps asked.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from actors.context import Context
from actors.errors import SpecError, WaitError
from actors.intersteps import Interstep, UpdateContext, awaited_pid
from actors.launcher import resolve
from actors.outline import Outline, Position, Signal
from actors.outline_names import MissingStepError, named_position, numbered_position
from actors.process import Process
from actors.process_definition import refuse_hooks_as_steps
from actors.spec import ExitCode, ProcessSpec
from actors.step_outcomes import StepContinue, StepDone, StepOutcome, StepWait, as_exit_code
from provenance.data import Data
from provenance.process_nodes import ProcessNode, WorkCalculation
from provenance.process_state import ProcessState


@dataclass
class WorkChainSpec(ProcessSpec):
    """A process spec with an outline."""

    _outline: Outline | None = field(default=None, repr=False)

    def outline(self, *steps: Any) -> None:
        """Declare the steps: methods, ``if_(...)``, ``while_(...)``, ``return_``."""
        self._check_open()
        outline = Outline(*steps)
        refuse_hooks_as_steps(self.owner, outline.names())
        self._outline = outline

    def retry(self, *args: Any, **kwargs: Any) -> None:
        """Refused: a work chain retries children with ``BaseRestartWorkChain``."""
        del args, kwargs
        raise SpecError(
            f"{self.owner or 'a work chain'}: spec.retry is for plain processes; a work chain "
            "retries a child with BaseRestartWorkChain and @process_handler"
        )

    def get_outline(self, owner: str) -> Outline:
        """The outline.

        Raises:
            SpecError: if ``define`` did not call ``spec.outline(...)``.
        """
        if self._outline is None:
            raise SpecError(f"{owner} has no outline: call spec.outline(cls.step, ...) in define()")
        return self._outline


class WorkChain(Process):
    """A process that runs the steps of its outline, awaiting children between steps.

    Subclass, call ``super().define(spec)`` then ``spec.outline(...)`` in ``define``.
    """

    node_class = WorkCalculation
    spec_class: ClassVar[type[ProcessSpec]] = WorkChainSpec

    class SaveKeys(Process.SaveKeys):
        """Keys of the saved instance state, beyond those of every process."""

        CONTEXT = "ctx"
        STEPPER = "stepper"
        OUTLINE_DONE = "outline_done"
        OUTLINE = "outline"
        NAMED_STEPPER = "named_stepper"
        BARRIERS = "barriers"
        AWAITING = "intersteps"

    # Instance state, declared (as in ``Process``) so that a subclass may not shadow it.
    _ctx: Context
    _position: Position
    _outline_done: bool
    _barriers: dict[int, None]  # an ordered set of pids
    _new_intersteps: list[Interstep]
    _awaiting: list[Interstep]
    _step_thread: int | None

    def __init__(self, inputs: Mapping[str, Any] | None = None) -> None:
        super().__init__(inputs)
        self._ctx = Context()
        self._position = None
        self._outline_done = False
        self._barriers = {}
        self._new_intersteps = []
        self._awaiting = []
        self._step_thread = None

    @classmethod
    def spec(cls) -> WorkChainSpec:
        """The sealed spec; its outline is checked to exist."""
        spec = super().spec()
        assert isinstance(spec, WorkChainSpec)
        spec.get_outline(cls.__name__)
        return spec

    @classmethod
    def outline(cls) -> Outline:
        """The outline of this class."""
        return cls.spec().get_outline(cls.__name__)

    @property
    def ctx(self) -> Context:
        """The context: data kept from one step to the next (attribute and item access)."""
        return self._ctx

    # Children and waiting.

    def submit(self, process: Any, *args: Any, **inputs: Any) -> ProcessNode:
        """Launch a child in this runtime and return its node at once; await it with
        ``ToContext``/``to_context`` to get it in ctx when it has terminated."""
        runtime = self.runtime
        process_class, resolved = resolve(process, args, inputs)
        child, _done = runtime.launch(process_class, resolved, caller=self, detached=True)
        return child.node

    def insert_barrier(self, wait_on: Any) -> None:
        """Do not run the next step before ``wait_on`` (a process node, RunningInfo or pid) has
        terminated."""
        self._barriers[awaited_pid(wait_on)] = None

    def remove_barrier(self, wait_on: Any) -> None:
        """Remove a barrier inserted before.

        Raises:
            WaitError: if there is no barrier on ``wait_on``.
        """
        pid = awaited_pid(wait_on)
        if pid not in self._barriers:
            raise WaitError(
                f"no barrier on process {pid} to remove; barriers: "
                f"{', '.join(map(str, self._barriers)) or 'none'}"
            )
        del self._barriers[pid]

    def insert_intersteps(self, interstep: Interstep | list[Interstep]) -> None:
        """Run ``interstep`` between the end of this step and the start of the next one."""
        items = interstep if isinstance(interstep, list) else [interstep]
        for item in items:
            if not isinstance(item, Interstep):
                raise WaitError(
                    f"{item!r} is not an interstep (it needs on_last_step_finished and "
                    "on_next_step_starting)"
                )
            self._new_intersteps.append(item)

    def to_context(self, **kwargs: Any) -> None:
        """Await each handle and put it in ``ctx`` under its keyword before the next step."""
        for key, value in kwargs.items():
            self.insert_intersteps(UpdateContext(key, value))

    def _child_terminated(self, pid: int, state: ProcessState) -> bool:
        """Drop the barrier on ``pid``; True once no barrier is left."""
        del state
        if pid not in self._barriers:
            return False
        del self._barriers[pid]
        return not self._barriers

    @property
    def _waiting_on(self) -> frozenset[int]:
        """The pids the work chain waits for before its next step."""
        return frozenset(self._barriers)

    # Abort.

    def abort(self, msg: str | None = None, timeout: float | None = None) -> bool:
        """Kill this work chain (and its running children) before its next step.

        The message goes into the report. Called from one of the work chain's own steps, the
        kill happens when that step has ended, so this returns False; elsewhere it waits up to
        ``timeout`` seconds (None: no limit) and returns whether the work chain ended KILLED.
        """
        runtime = self.runtime
        pid = self.pid
        if pid is None:
            raise SpecError(f"{self.process_label()} was never launched; there is nothing to abort")
        if self._step_thread == threading.get_ident():
            # From its own step: the driver kills it when the step returns, even if that was
            # the last step (a Kill message would arrive after the end and be ignored).
            self._kill_requested = (msg,)
            return False
        runtime.kill(pid, msg)
        runtime.wait(pid, timeout)
        # Read from the node: this object may have been passivated and revived as another.
        return self.node.process_state is ProcessState.KILLED

    def abort_nowait(self, msg: str | None = None) -> None:
        """Kill this work chain at its next state transition, without waiting."""
        self.abort(msg, timeout=0)

    def on_kill(self, message: str | None) -> None:
        """Report why the work chain was killed, then record it on the node."""
        self.report("aborted: %s", message) if message else self.report("aborted")
        super().on_kill(message)

    # Stepping.

    def _step(self) -> StepOutcome:
        """Run the next step of the outline (after the intersteps of the previous one)."""
        self._step_thread = threading.get_ident()
        try:
            return self._advance()
        finally:
            self._step_thread = None

    def _advance(self) -> StepOutcome:
        self._act_on_awaited()
        if self._outline_done:
            return StepDone(ExitCode())
        executed = self.outline().execute(self, self._position)
        if executed.signal is not Signal.STEP:  # the outline ran out, or reached return_
            self._outline_done = True
            return StepDone(executed.value or ExitCode())
        self._position = executed.position
        self._outline_done = executed.position is None
        self._store_context_nodes()
        value = executed.value
        if isinstance(value, Mapping):
            # A returned mapping is a ToContext (aiida's rule); an empty one awaits nothing.
            self._to_context_from(value, executed.step)
            value = None
        exit_code = as_exit_code(value, f"{type(self).__name__}.{executed.step}")
        if exit_code.status != 0:
            return StepDone(exit_code)
        return self._after_step()

    def _to_context_from(self, mapping: Mapping[Any, Any], step: str) -> None:
        """Await what a step returned as a mapping, like ``ToContext``."""
        for key in mapping:
            if not isinstance(key, str) or not key.isidentifier():
                raise WaitError(
                    f"{type(self).__name__}.{step} returned a mapping with key {key!r}; a "
                    "returned mapping is read as ToContext(name=handle, ...), whose keys are "
                    "ctx names (identifiers)"
                )
        self.to_context(**mapping)

    def _store_context_nodes(self) -> None:
        """Store the data nodes a step left unstored in ctx (aiida does too), so that the
        checkpoint records them by reference and later steps can link them."""
        unstored: dict[str, Data] = {}
        _collect_unstored(self._ctx, unstored, depth=0)
        if not unstored:
            return
        records = {
            record.uuid: record for node in unstored.values() for record in node._records_to_store()
        }
        pks = self.runtime.backend.write_applied(list(records.values()))
        for node in unstored.values():
            node._mark_stored(pks)

    def _after_step(self) -> StepOutcome:
        """Let the step's intersteps insert their barriers; wait if any, else go on."""
        intersteps, self._new_intersteps = self._new_intersteps, []
        for interstep in intersteps:
            interstep.on_last_step_finished(self)
        self._awaiting.extend(intersteps)
        if self._barriers:
            return StepWait(frozenset(self._barriers))
        if self._outline_done:
            self._act_on_awaited()
            return StepDone(ExitCode())
        return StepContinue()

    def _act_on_awaited(self) -> None:
        awaiting, self._awaiting = self._awaiting, []
        for interstep in awaiting:
            interstep.on_next_step_starting(self)

    # Checkpoints.

    def save_instance_state(self, *, nodes_by_value: bool = False) -> dict[str, Any]:
        """The process state plus ctx, outline position, barriers and pending intersteps."""
        state = super().save_instance_state(nodes_by_value=nodes_by_value)
        keys = self.SaveKeys
        state.update(
            {
                keys.CONTEXT: self._ctx.snapshot(),
                keys.STEPPER: self._position,
                keys.OUTLINE_DONE: self._outline_done,
                keys.OUTLINE: self.outline().fingerprint(),
                keys.NAMED_STEPPER: named_position(self.outline(), self._position),
                keys.BARRIERS: list(self._barriers),
                keys.AWAITING: list(self._awaiting),
            }
        )
        return state

    def _load_instance_state(self, state: Mapping[str, Any]) -> None:
        super()._load_instance_state(state)
        keys = self.SaveKeys
        self._position = self._saved_position(state)
        self._ctx = Context.restore(state[keys.CONTEXT])
        self._outline_done = state[keys.OUTLINE_DONE]
        self._barriers = dict.fromkeys(state[keys.BARRIERS])
        self._new_intersteps = []
        self._awaiting = list(state[keys.AWAITING])
        self._step_thread = None

    def _saved_position(self, state: Mapping[str, Any]) -> Any:
        """The checkpoint's position in this class's outline: as saved if the outline is the
        same, else found again by step names (steps added or edited elsewhere are fine).

        Raises:
            SpecError: if the step the checkpoint is at is gone; the checkpoint is left as it
                is, so restoring the step lets the process go on.
        """
        keys = self.SaveKeys
        outline = self.outline()
        if state[keys.OUTLINE] == outline.fingerprint():
            return state[keys.STEPPER]
        where = f"the checkpoint of {self.process_label()} (pid {state[keys.PID]})"
        if keys.NAMED_STEPPER not in state:
            raise SpecError(
                f"{where} was taken under another outline, before checkpoints named their "
                "steps; run the process again, or restore the old class"
            )
        try:
            return numbered_position(outline, state[keys.NAMED_STEPPER])
        except MissingStepError as missing:
            raise SpecError(
                f"{where} is at step {missing.label!r}, which the outline of "
                f"{type(self).__name__} no longer has; restore that step to let the process "
                "go on (its checkpoint is kept), or run the process again"
            ) from None


#: How deep ``_store_context_nodes`` looks into lists and dicts in ctx.
_CONTEXT_DEPTH = 32


def _collect_unstored(value: Any, found: dict[str, Data], depth: int) -> None:
    """Gather the unstored data nodes in ``value``, into lists, tuples, sets and mappings."""
    if isinstance(value, Data):
        if not value.is_stored:
            found.setdefault(value.uuid, value)
    elif depth < _CONTEXT_DEPTH and isinstance(value, Mapping):
        for item in value.values():
            _collect_unstored(item, found, depth + 1)
    elif depth < _CONTEXT_DEPTH and isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _collect_unstored(item, found, depth + 1)


__all__ = ["WorkChain", "WorkChainSpec"]
