"""Pause, play and kill processes that another OS process runs or will run: the daemon's.

A process submitted to the daemon is either held by a worker (its checkpoint lock is taken) or
waiting in ``running/`` for one. For the first, the request goes to the workers over their wake
sockets; the holder acts on it between two steps. For the second, it is written as an intent
beside the checkpoint, under the checkpoint's lock, and the runtime that next adopts the
checkpoint applies it: since adoption also takes that lock before it reads the intent, a request
is never lost between the two paths.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import structlog

from actors.control import Action, Intent, write_intent
from actors.daemon.errors import ControlError
from actors.daemon.paths import DaemonPaths
from actors.daemon.status import WorkerStatus, view
from actors.daemon.wake import ControlRequest, notify_workers
from persistence.errors import CheckpointMissingError, LockError
from persistence.folders import lock_path_of
from persistence.lock import RLock

if TYPE_CHECKING:
    from persistence.postgres_store import PostgresStore

log = structlog.get_logger(__name__)

#: Seconds to wait for a checkpoint lock that no worker says it holds: a submitter writing the
#: first checkpoint, or a worker adopting it whose status file is not rewritten yet.
LOCK_WAIT = 1.0


class Route(StrEnum):
    """How a request reached its process."""

    #: Sent to the daemon's workers; the one holding the process acts on it.
    SENT = "sent"
    #: Recorded as an intent; applied when a worker adopts the checkpoint.
    RECORDED = "recorded"


@dataclass(frozen=True, slots=True)
class Delivery:
    """What ``request`` did: the route, how many workers it reached, and the holder if known."""

    route: Route
    workers: int
    holder: WorkerStatus | None = None


def request(
    home: str | os.PathLike[str],
    pid: int,
    action: Action,
    message: str | None = None,
    *,
    lock_wait: float = LOCK_WAIT,
) -> Delivery:
    """Ask for ``action`` on process ``pid`` of the daemon of ``home``.

    Raises:
        ControlError: if ``pid`` has no checkpoint in ``running/`` (it ended, or it is run by
            a program that keeps none), or if a program other than the daemon holds it.
    """
    paths = DaemonPaths.of(home)
    checkpoint = paths.running / f"{pid}.pickle"
    if not checkpoint.is_file():
        raise _not_queued(pid, paths)
    intent = Intent(action, message)
    lock = RLock(lock_path_of(checkpoint), timeout=0, check_interval=0.05, fail_when_locked=True)
    if _record(lock, paths, pid, intent, wait=0):
        return Delivery(Route.RECORDED, notify_workers(paths.home))
    holder = view(paths.home).holder_of(pid)
    if holder is None and _record(lock, paths, pid, intent, wait=lock_wait):
        return Delivery(Route.RECORDED, notify_workers(paths.home))
    reached = notify_workers(paths.home, ControlRequest(action, pid, message))
    if reached == 0:
        raise ControlError(
            f"process {pid} is held by a program other than the daemon (its lock "
            f"{lock.filename} is taken) and no daemon worker runs on {paths.home}; "
            "pause, play or kill it from the program that runs it"
        )
    log.info("daemon.control_sent", pid=pid, action=action.value, workers=reached)
    return Delivery(Route.SENT, reached, holder)


def request_shared(
    store: PostgresStore, channel: str, pid: int, action: Action, message: str | None = None
) -> Delivery:
    """``request`` for checkpoints in a shared database: the holder, on whatever machine,
    gets the request by ``NOTIFY``; a process nobody holds gets an intent for its next claim.

    Raises:
        ControlError: if ``pid`` has no running checkpoint in the database.
    """
    try:
        sent, workers = store.request_control(pid, Intent(action, message), channel)
    except CheckpointMissingError:
        raise ControlError(
            f"process {pid} has no running checkpoint in the database: it has ended, or it "
            "runs in a program that keeps no checkpoints (a blocking run), which alone can "
            "control it"
        ) from None
    log.info("daemon.control_sent" if sent else "daemon.intent_recorded", pid=pid)
    return Delivery(Route.SENT if sent else Route.RECORDED, workers)


def _record(lock: RLock, paths: DaemonPaths, pid: int, intent: Intent, *, wait: float) -> bool:
    """Write the intent if the checkpoint's lock is free within ``wait``; False if held.

    Raises:
        ControlError: if the checkpoint went away meanwhile (the process ended).
    """
    try:
        lock.acquire(timeout=wait, owner=lock, fail_when_locked=wait == 0)
    except LockError:
        return False
    try:
        if not (paths.running / f"{pid}.pickle").is_file():
            raise _not_queued(pid, paths)
        write_intent(paths.running, pid, intent)
    finally:
        lock.release(owner=lock)
    log.info("daemon.intent_recorded", pid=pid, action=intent.action.value)
    return True


def _not_queued(pid: int, paths: DaemonPaths) -> ControlError:
    return ControlError(
        f"process {pid} has no checkpoint in {paths.running}: it has ended, or it runs in a "
        "program that keeps no checkpoints (a blocking run), which alone can control it"
    )
