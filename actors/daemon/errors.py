"""The exceptions of the daemon: one base, ``DaemonError``, under ``ActorError``."""

from __future__ import annotations

from actors.errors import ActorError


class DaemonError(ActorError):
    """Base of the errors raised by the daemon, its workers and the control of its processes."""


class DaemonRunningError(DaemonError):
    """A daemon already runs on this home; a second one would fight it for the same folder."""


class DaemonStartError(DaemonError):
    """The daemon did not come up: its supervisor or a worker ended before it was ready."""


class DaemonStopTimeoutError(DaemonError, TimeoutError):
    """The daemon was asked to stop but is still finishing the steps it was running."""


class ControlError(DaemonError):
    """A process could not be paused, played or killed from outside the program running it."""
