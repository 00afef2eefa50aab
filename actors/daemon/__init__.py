"""The daemon: worker OS processes that run the processes submitted to a home.

``start_daemon``/``stop_daemon`` (and ``workactors daemon start|stop|status|logs``) manage a
supervisor that keeps N workers (``python -m actors.daemon.worker``) running; each worker runs a
durable ``Runtime`` that adopts the checkpoints in ``<home>/running``. ``notify_workers`` wakes
them (``Runtime.queue_up`` calls it); ``request`` pauses, plays or kills one of their processes
from outside. The supervisor and worker modules are entry points and are not imported here.
"""

from actors.daemon.errors import (
    ControlError,
    DaemonError,
    DaemonRunningError,
    DaemonStartError,
    DaemonStopTimeoutError,
)
from actors.daemon.manage import start_daemon, stop_daemon
from actors.daemon.paths import DaemonPaths
from actors.daemon.remote import Delivery, Route, request
from actors.daemon.status import DaemonState, DaemonView, WorkerStatus, view
from actors.daemon.wake import ControlRequest, Terminated, Wake, notify_workers

__all__ = [
    "ControlError",
    "ControlRequest",
    "DaemonError",
    "DaemonPaths",
    "DaemonRunningError",
    "DaemonStartError",
    "DaemonState",
    "DaemonStopTimeoutError",
    "DaemonView",
    "Delivery",
    "Route",
    "Terminated",
    "Wake",
    "WorkerStatus",
    "notify_workers",
    "request",
    "start_daemon",
    "stop_daemon",
    "view",
]
