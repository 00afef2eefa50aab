"""The exceptions of the engine: one base, ``ActorError``, under ``WorkactorsError``."""

from __future__ import annotations

from provenance.errors import WorkactorsError


class ActorError(WorkactorsError):
    """Base of the errors raised by the engine."""


class InputValidationError(ActorError, ValueError):
    """Inputs do not fit the process spec; nothing was stored."""


class OutputValidationError(ActorError, ValueError):
    """A process emitted an output its spec does not allow, or left out a required one."""


class SpecError(ActorError, TypeError):
    """A process class defines an invalid spec."""


class TransitionError(ActorError, RuntimeError):
    """A process was asked to move to a state its current state may not go to."""


class StackError(ActorError, RuntimeError):
    """The process call stack was asked to pop a process that is not on top."""


class ProcessKilledError(ActorError, RuntimeError):
    """A process that was run blockingly was killed before it finished."""


class RuntimeClosedError(ActorError, RuntimeError):
    """The runtime was shut down; create a new one to run more processes."""


class ClassLoadError(ActorError, ImportError):
    """A class path does not name an importable class."""


class ContextError(ActorError, TypeError):
    """A value put into a work chain's context cannot be saved in a checkpoint."""


class WaitError(ActorError, RuntimeError):
    """A work chain was asked to wait on something it cannot wait on."""


class ProcessSuspendedError(ActorError, RuntimeError):
    """A durable runtime shut down and left the process to its checkpoint, to be resumed."""


class CachingSettingError(ActorError, TypeError):
    """A caching setting is not one caching understands (``actors.caching``)."""
