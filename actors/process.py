"""``Process``: what users subclass; it has a spec, a state machine and a node.

A ``Process`` holds no thread. Its ``ProcessActor`` drives it one step per message; the process
only says what a step did (``StepOutcome``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self

from actors import call_keys, expose, instance_state
from actors.attribute_dict import AttributeDict, FrozenAttributeDict
from actors.errors import SpecError
from actors.exit_codes import DeclaredExitCodes
from actors.nested import LINK_SEPARATOR, leaves, nest
from actors.process_definition import (
    ENGINE_PACKAGE,
    check_spec_builds,
    launch_metadata,
    refuse_engine_names,
    takes_exit_code,
)
from actors.retry import run_with_retry
from actors.spec import METADATA_KEY, ExitCode, ProcessSpec
from actors.states import StateMachine
from actors.step_outcomes import StepDone, StepOutcome, as_exit_code
from provenance.data import Data
from provenance.log import get_logger
from provenance.process_nodes import Calculation, ProcessNode
from provenance.process_state import ProcessState

if TYPE_CHECKING:
    from actors.runtime import Runtime

REPORT_LOGGER_NAME = "workactors.report"
_report_logger = logging.getLogger(REPORT_LOGGER_NAME)
log = get_logger(__name__)


class Process:
    """A unit of work with full provenance.

    Subclass, override ``define`` (call ``super().define(spec)`` first) and ``run``.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Hold a user's class to the engine's rules where it is written
        (``actors.process_definition``), and build its spec there."""
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith(ENGINE_PACKAGE):
            return
        refuse_engine_names(cls)
        check_spec_builds(cls, Process.spec.__func__)  # type: ignore[attr-defined]

    # Instance state, set in ``__init__`` (or from a checkpoint): declared here, so that a
    # subclass defining one of these names is refused where it is written.
    _inputs: FrozenAttributeDict
    _outputs: dict[str, Data]
    _node: ProcessNode
    _machine: StateMachine
    _runtime: Runtime | None
    #: The pids from the outermost caller down to this process, set by its actor.
    _call_stack: tuple[int, ...]

    node_class: ClassVar[type[ProcessNode]] = Calculation
    #: False keeps this class out of caching (``actors.caching``): it always runs.
    CACHEABLE: ClassVar[bool] = True
    spec_class: ClassVar[type[ProcessSpec]] = ProcessSpec

    class SaveKeys:
        """Keys of the saved instance state bundle."""

        CLASS_NAME = "class_name"
        PID = "pid"
        NODE_UUID = "node_uuid"
        INPUTS = "inputs"
        OUTPUTS = "outputs"
        STATE = "state"
        STEP_INDEX = "step_index"
        RETRY_ATTEMPTS = "retry_attempts"

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """Declare inputs, outputs and exit codes; subclasses call ``super().define(spec)``."""

    @classmethod
    def spec(cls) -> ProcessSpec:
        """The sealed spec of this class, built on first use."""
        spec = cls.__dict__.get("_sealed_spec")
        if spec is None:
            spec = cls.spec_class()
            spec.owner = cls.__qualname__
            cls.define(spec)
            spec.sealed = True
            cls._sealed_spec = spec  # type: ignore[attr-defined]
        return spec

    @classmethod
    def process_label(cls) -> str:
        """The name shown for processes of this class."""
        return cls.__name__

    @classmethod
    def class_path(cls) -> str:
        """``module.QualName``, what ``load_class`` takes to find this class again."""
        return f"{cls.__module__}.{cls.__qualname__}"

    @classmethod
    def create_db_record(cls) -> ProcessNode:
        """A new, unstored node that will record what a process of this class does."""
        node = cls.node_class()
        node.change_process_attributes(
            process_label=cls.process_label(),
            process_class=cls.class_path(),
            process_state=ProcessState.CREATED.value,
        )
        return node

    def __init__(self, inputs: Mapping[str, Any] | None = None) -> None:
        """Validate ``inputs`` against the spec; nothing is stored yet.

        Raises:
            InputValidationError: naming every input that does not fit.
        """
        spec = type(self).spec()
        given = dict(inputs) if inputs else {}
        owner = self.process_label()
        metadata = launch_metadata(given.pop(METADATA_KEY, None), owner)
        # Namespaces come back frozen already.
        self._inputs = FrozenAttributeDict(spec.validate_inputs(given, owner=owner))
        self._outputs = {}
        self._node = self.create_db_record()
        for field_name, value in metadata.items():
            setattr(self._node, field_name, value)
        self._machine = StateMachine()
        self._runtime = None
        self._call_stack = ()
        call_keys.start_counting(self, 0)

    @property
    def inputs(self) -> FrozenAttributeDict:
        """The validated inputs, defaults filled in."""
        return self._inputs

    @property
    def outputs(self) -> dict[str, Data]:
        """The outputs emitted so far."""
        return dict(self._outputs)

    @property
    def node(self) -> ProcessNode:
        """The node recording this process."""
        return self._node

    @property
    def pid(self) -> int | None:
        """The process id, equal to the node's pk; None until the process is launched."""
        return self._node.pk

    @property
    def state(self) -> ProcessState:
        """The current state."""
        return self._machine.state

    @property
    def attempt(self) -> int:
        """Which attempt of ``run`` this is: 1, unless ``spec.retry`` ran it again."""
        return self._retry_attempts + 1

    #: The exit codes of the spec, by label, read on the class too: ``Child.exit_codes.ERROR_X``.
    exit_codes = DeclaredExitCodes()

    @property
    def runtime(self) -> Runtime:
        """The runtime that runs this process."""
        if self._runtime is None:
            raise SpecError(f"{self.process_label()} has not been launched by a runtime")
        return self._runtime

    def run(self) -> ExitCode | int | None:
        """The work; override it. Return None, an int or an ``ExitCode``."""
        raise SpecError(f"{type(self).__name__} must override run(self)")

    def out(self, name: str, value: Data) -> None:
        """Emit an output.

        Raises:
            OutputValidationError: if the spec has no such output or the type is wrong.
        """
        if isinstance(value, Mapping):
            self.out_many({name: value})
            return
        type(self).spec().validate_output(name, value, owner=self.process_label())
        self._outputs[name] = value

    def out_many(self, outputs: Mapping[str, Any]) -> None:
        """Emit every output of ``outputs``; nested dicts are output namespaces.

        Raises:
            OutputValidationError: as ``out``, for the first output that does not fit.
        """
        for path, value in leaves(outputs):
            self.out(path, value)

    def exposed_inputs(
        self, process_class: Any, namespace: str | None = None, *, agglomerate: bool = True
    ) -> AttributeDict:
        """The inputs of this process that ``spec.expose_inputs(process_class, namespace)``
        took over, ready to launch ``process_class`` with (a mutable copy). With
        ``agglomerate``, those exposed for the class in the namespaces above come too."""
        spec = type(self).spec()
        return expose.exposed_inputs(spec, self._inputs, process_class, namespace, agglomerate)

    def exposed_outputs(
        self,
        node: ProcessNode,
        process_class: Any,
        namespace: str | None = None,
        *,
        agglomerate: bool = True,
    ) -> AttributeDict:
        """The outputs of the finished child ``node`` that ``spec.expose_outputs(process_class,
        namespace)`` declared, nested under ``namespace``: give them to ``out_many``."""
        spec = type(self).spec()
        return expose.exposed_outputs(spec, node, process_class, namespace, agglomerate)

    def report(self, msg: str, *args: Any, **kwargs: Any) -> None:
        """Log ``msg % args`` to this process's node, prefixed ``[ClassName|method]``.

        As ``logging``: a single mapping argument fills ``%(name)s`` fields, and ``exc_info``,
        ``stack_info``, ``stacklevel`` and ``extra`` are passed on (a traceback is stored with
        the line). A message that does not fit its arguments raises here, in the step.
        """
        caller = sys._getframe(1).f_code.co_name
        one_mapping = len(args) == 1 and isinstance(args[0], Mapping) and args[0]
        text = msg % (args[0] if one_mapping else args) if args else msg
        extra = dict(kwargs.pop("extra", None) or {})
        extra.update({"pid": self.pid, "workactors_runtime": id(self._runtime)})
        _report_logger.info("[%s|%s] %s", type(self).__name__, caller, text, extra=extra, **kwargs)

    def save_instance_state(self, *, nodes_by_value: bool = False) -> dict[str, Any]:
        """The state a checkpoint records, keyed by ``SaveKeys``; every value is picklable.

        Stored nodes are recorded by uuid and loaded again on restore, unless
        ``nodes_by_value``: then they travel inside the state, which spares the database reads
        when the state is restored in the same runtime (passivation). Outputs not stored yet
        always travel by value. Subclasses that hold more state extend the dict (call super).
        """
        return instance_state.save_instance_state(self, nodes_by_value=nodes_by_value)

    @classmethod
    def load_instance_state(cls, state: Mapping[str, Any]) -> Self:
        """Recreate a launched process from ``save_instance_state()`` output.

        The node, inputs and stored outputs are read from the provenance database, so this runs
        where a runtime (or the default one) is available. The result is not running yet:
        ``Runtime.resume`` starts it.
        """
        process = cls.__new__(cls)
        process._load_instance_state(state)
        return process

    def _load_instance_state(self, state: Mapping[str, Any]) -> None:
        """Fill a bare instance from a saved state; subclasses extend it (call super)."""
        instance_state.load_instance_state(self, state)

    # Hooks the actor calls; overriders call super().

    def on_finish(self, exit_code: ExitCode | None = None) -> None:
        """Record the end state on the node when the process enters FINISHED.

        ``exit_code`` is what the process ended with; an override in the seed's form,
        ``on_finish(self)`` calling ``super().on_finish()``, leaves it out and gets it all the same.
        """
        if exit_code is None:
            exit_code = self._exit_code
        self._node.change_process_attributes(
            process_state=ProcessState.FINISHED.value,
            exit_status=exit_code.status,
            exit_message=exit_code.message or None,
        )

    def on_except(self, traceback_text: str) -> None:
        """Record the traceback on the node when the process enters EXCEPTED."""
        self._node.change_process_attributes(
            process_state=ProcessState.EXCEPTED.value, exception=traceback_text
        )

    def on_kill(self, message: str | None) -> None:
        """Record the kill on the node when the process enters KILLED."""
        self._node.change_process_attributes(
            process_state=ProcessState.KILLED.value, exit_message=message
        )

    # Engine side.

    #: What the process ends with, for ``on_finish`` overridden without the argument.
    _exit_code: ExitCode = ExitCode()
    #: Attempts of ``run`` that failed and were retried (``spec.retry``).
    _retry_attempts: int = 0
    #: ``(message,)`` once the process asked, inside its step, to be killed after it.
    _kill_requested: tuple[str | None] | None = None

    # The counters a child's call key is made of (``actors.call_keys``).
    #: Steps begun, saved in checkpoints, so that a step run again after a crash finds the
    #: children it had launched instead of launching them twice.
    _step_index: int
    #: Children launched so far in the current step.
    _launches: int
    #: The step index of the checkpoint this process was resumed from, if it was: its next
    #: step may have begun before (a crash cut it off), so its launches are looked up.
    _resumed_at: int | None
    #: The children launched before that crash, by call key, read on the first look.
    _launched_before: dict[str, ProcessNode] | None

    def _call_on_finish(self, exit_code: ExitCode) -> None:
        """Call ``on_finish`` with the exit code, or without it if the override (the seed's
        form) takes none. The end is recorded even if an override did not call super (the
        process stayed RUNNING, having finished)."""
        self._exit_code = exit_code
        if takes_exit_code(self.on_finish):
            self.on_finish(exit_code)
        else:
            self.on_finish()
        if not self._end_recorded(ProcessState.FINISHED):
            Process.on_finish(self, exit_code)

    def _call_on_except(self, traceback_text: str) -> None:
        """Call ``on_except``; the end is recorded even if an override did not call super or
        raised (the process stayed RUNNING, and an awaiting work chain waited forever)."""
        try:
            self.on_except(traceback_text)
        except Exception as exc:
            traceback_text += f"\n{type(self).__name__}.on_except raised too: {exc!r}"
        if not self._end_recorded(ProcessState.EXCEPTED):
            Process.on_except(self, traceback_text)

    def _call_on_kill(self, message: str | None) -> None:
        """Call ``on_kill``; the end is recorded even if an override did not call super or
        raised."""
        try:
            self.on_kill(message)
        except Exception as exc:
            log.error("process.on_kill_failed", pid=self.pid, error=repr(exc))
        if not self._end_recorded(ProcessState.KILLED):
            Process.on_kill(self, message)

    def _end_recorded(self, state: ProcessState) -> bool:
        return self._node.attributes.get("process_state") == state.value

    @classmethod
    def _stored_result(cls, node: ProcessNode) -> Any:
        """What a blocking ``run`` returned, read back from the node of a finished process."""
        outputs = {
            label: value
            for label, value in node.get_outputs_dict().items()
            if isinstance(value, Data)
        }
        return nest(outputs, LINK_SEPARATOR)

    def _step(self) -> StepOutcome:
        """Run the next step; a plain process has one, ``run``."""
        policy = type(self).spec().retry_policy
        result = self.run() if policy is None else run_with_retry(self, policy)
        return StepDone(as_exit_code(result, f"{type(self).__name__}.run"))

    @property
    def _waiting_on(self) -> frozenset[int]:
        """The pids the process waits for before its next step (none for a plain process)."""
        return frozenset()

    def _child_terminated(self, pid: int, state: ProcessState) -> bool:
        """Note that an awaited child terminated; True if the process may continue now."""
        del pid, state
        return True

    def _result(self) -> Any:
        """What a blocking ``run`` returns: the outputs, namespaces as nested dicts."""
        outputs = self._outputs
        return nest(outputs, ".") if any("." in name for name in outputs) else dict(outputs)
