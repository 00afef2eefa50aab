"""What the daemon says about itself: the supervisor's state file and one status file a worker.

Each file is JSON, rewritten atomically by its owner, and records the owner's OS pid with the
time that process started and its ``birth`` (``actors.os_identity``): a reader tells a live owner
from a dead one whose pid was reused, by the birth, which no step of the wall clock changes (the
start time alone made a live daemon look dead after one). Files without a birth (written by an
older version, or not on Linux) are judged by the start time.
The authority on whether a daemon runs is the supervisor's lock (``supervisor_running``); the
files describe it.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Self

import psutil

from actors import os_identity
from actors.daemon.paths import DaemonPaths
from persistence.atomic import atomic_write
from persistence.errors import LockError, PersistenceError
from persistence.folders import CHECKPOINT_SUFFIX
from persistence.lock import RLock


def process_started(os_pid: int) -> float | None:
    """When OS process ``os_pid`` started (seconds since the epoch), None if it is gone."""
    try:
        started: float = psutil.Process(os_pid).create_time()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.Error:
        return None
    return started


def same_process_alive(os_pid: int, started: float, birth: str | None = None) -> bool:
    """True if ``os_pid`` is still the process born ``birth`` (``os_identity.birth``), not a
    reuse of its pid; without a birth, the process that started at ``started`` (within a second,
    which a step of the wall clock defeats)."""
    if birth is not None:
        if os_identity.birth(os_pid) != birth:
            return False
    else:
        now_started = process_started(os_pid)
        if now_started is None or abs(now_started - started) >= 1.0:
            return False
    try:
        return bool(psutil.Process(os_pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _birth_of(document: dict[str, Any]) -> str | None:
    birth = document.get("birth")
    return birth if isinstance(birth, str) else None


def _write_json(path: Path, document: dict[str, Any]) -> None:
    atomic_write(path, (json.dumps(document, indent=1) + "\n").encode())


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    """One worker: who it is and which processes it holds (runs, or keeps waiting)."""

    index: int
    os_pid: int
    started: float
    held: tuple[int, ...] = ()
    updated: float = field(default_factory=time.time)
    supervisor_pid: int | None = None
    birth: str | None = None

    @classmethod
    def of_this_process(cls, index: int, supervisor_pid: int | None = None) -> Self:
        """The status of this OS process as worker ``index``, holding nothing yet."""
        pid = os.getpid()
        return cls(
            index=index,
            os_pid=pid,
            started=process_started(pid) or time.time(),
            supervisor_pid=supervisor_pid,
            birth=os_identity.birth(pid),
        )

    @property
    def alive(self) -> bool:
        """True while the worker that wrote this runs."""
        return same_process_alive(self.os_pid, self.started, self.birth)

    def write(self, paths: DaemonPaths) -> None:
        """Replace this worker's status file."""
        document = asdict(self)
        document["held"] = list(self.held)
        _write_json(paths.worker_status(self.index), document)

    @classmethod
    def read(cls, path: Path) -> Self | None:
        """The status in ``path``; None if it is missing or unreadable (being replaced)."""
        document = _read_json(path)
        if document is None:
            return None
        try:
            return cls(
                index=int(document["index"]),
                os_pid=int(document["os_pid"]),
                started=float(document["started"]),
                held=tuple(int(pid) for pid in document.get("held", ())),
                updated=float(document.get("updated", 0.0)),
                supervisor_pid=document.get("supervisor_pid"),
                birth=_birth_of(document),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True, slots=True)
class DaemonState:
    """The supervisor: its OS pid, when it started and how many workers it keeps."""

    os_pid: int
    started: float
    workers: int
    home: str
    birth: str | None = None

    @classmethod
    def of_this_process(cls, workers: int, home: str) -> Self:
        """The state of this OS process as the supervisor of ``home``."""
        pid = os.getpid()
        started = process_started(pid) or time.time()
        return cls(pid, started, workers, home, os_identity.birth(pid))

    @property
    def alive(self) -> bool:
        """True while the supervisor that wrote this runs."""
        return same_process_alive(self.os_pid, self.started, self.birth)

    def write(self, paths: DaemonPaths) -> None:
        """Replace the state file."""
        _write_json(paths.state_file, asdict(self))

    @classmethod
    def read(cls, paths: DaemonPaths) -> Self | None:
        """The state file's content; None if there is none (or it is unreadable)."""
        document = _read_json(paths.state_file)
        if document is None:
            return None
        try:
            return cls(
                os_pid=int(document["os_pid"]),
                started=float(document["started"]),
                workers=int(document["workers"]),
                home=str(document["home"]),
                birth=_birth_of(document),
            )
        except (KeyError, TypeError, ValueError):
            return None


def write_stop_note(paths: DaemonPaths, reason: str) -> None:
    """Record why the daemon of ``paths`` stopped, beside its lock (outside the home)."""
    document = {"reason": reason, "time": time.time(), "home": str(paths.home)}
    with contextlib.suppress(PersistenceError):  # the lock folder is gone: nobody to tell
        _write_json(paths.stop_note, document)


def last_stop(paths: DaemonPaths) -> tuple[str, float] | None:
    """Why and when the last daemon of ``paths`` stopped, if one recorded it."""
    document = _read_json(paths.stop_note)
    if document is None:
        return None
    try:
        return str(document["reason"]), float(document["time"])
    except (KeyError, TypeError, ValueError):
        return None


def supervisor_running(paths: DaemonPaths) -> bool:
    """True if a supervisor holds the lock of this home (whatever its files say)."""
    if not paths.supervisor_lock.exists():
        return False
    probe = RLock(paths.supervisor_lock, timeout=0, fail_when_locked=True)
    try:
        probe.acquire(owner=probe)
    except LockError:
        return True
    probe.release(owner=probe)
    return False


@dataclass(frozen=True, slots=True)
class DaemonView:
    """Everything ``daemon status`` shows."""

    running: bool
    state: DaemonState | None
    workers: Sequence[WorkerStatus]
    unheld_checkpoints: tuple[int, ...]
    last_stop: tuple[str, float] | None = None

    def holder_of(self, pid: int) -> WorkerStatus | None:
        """The live worker whose status lists ``pid``, if any."""
        for worker in self.workers:
            if pid in worker.held and worker.alive:
                return worker
        return None


def live_workers(paths: DaemonPaths) -> list[WorkerStatus]:
    """The status of every worker whose status file names a live process, by index."""
    found = (WorkerStatus.read(path) for path in paths.worker_statuses())
    return [worker for worker in found if worker is not None and worker.alive]


def view(home: str | os.PathLike[str]) -> DaemonView:
    """Read the daemon of ``home`` from its lock, state and status files."""
    paths = DaemonPaths.of(home)
    running = supervisor_running(paths)
    workers = [w for path in paths.worker_statuses() if (w := WorkerStatus.read(path))]
    held = {pid for worker in workers if worker.alive for pid in worker.held}
    waiting = sorted(
        int(path.name.removesuffix(CHECKPOINT_SUFFIX))
        for path in (paths.running.glob(f"*{CHECKPOINT_SUFFIX}") if paths.running.is_dir() else ())
        if path.name.removesuffix(CHECKPOINT_SUFFIX).isdigit()
    )
    return DaemonView(
        running=running,
        state=DaemonState.read(paths),
        workers=workers,
        unheld_checkpoints=tuple(pid for pid in waiting if pid not in held),
        last_stop=None if running else last_stop(paths),
    )
