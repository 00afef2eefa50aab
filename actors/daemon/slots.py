"""The worker positions of a supervisor: starting a worker OS process in one, and stopping them.

A slot is a worker's index (its log, status file and socket are named after it) and the OS
process in it now. Workers are started with ``subprocess`` (never ``fork``: a forked child would
share the parent's file locks), get the read end of the supervisor's lifeline and a pipe on
which to say ``ready``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

import structlog

from actors.daemon import logfile, settings
from actors.daemon.paths import DaemonPaths
from actors.runtime import DATABASE_URL_ENV

log = structlog.get_logger(__name__)

#: The first and the longest delay before restarting a worker that died before it was ready.
FIRST_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 30.0
#: Seconds beyond the workers' own shutdown timeout before they are killed.
KILL_GRACE = 15.0


@dataclass(slots=True)
class Slot:
    """One worker position: the process in it now, and its restart bookkeeping."""

    index: int
    process: subprocess.Popen[bytes] | None = None
    ready_fd: int | None = None
    ready: bool = False
    failures: int = 0
    restart_at: float | None = 0.0
    log_file: IO[str] | None = field(default=None, repr=False)

    def close_ready(self) -> None:
        """Stop listening for this worker's ``ready``."""
        if self.ready_fd is not None:
            os.close(self.ready_fd)
            self.ready_fd = None

    def close(self) -> None:
        """Forget the process and close what the supervisor holds for it."""
        self.close_ready()
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None
        self.process = None


def retry_delay(failures: int) -> float:
    """Seconds before restarting a worker that died ``failures`` times before it was ready."""
    return float(min(MAX_RETRY_DELAY, FIRST_RETRY_DELAY * 2 ** max(0, failures - 1)))


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """What every worker of one supervisor is started with."""

    paths: DaemonPaths
    database_url: str | None
    rescan_interval: float
    shutdown_timeout: float
    cwd: str | os.PathLike[str] | None


def spawn(slot: Slot, options: WorkerOptions, lifeline: int) -> None:
    """Start a worker in ``slot``; on failure schedule a retry (and log why)."""
    ready_reader, ready_writer = os.pipe()
    command = settings.command(
        settings.WORKER_MODULE,
        options.paths.home,
        "--index",
        str(slot.index),
        "--lifeline-fd",
        str(lifeline),
        "--ready-fd",
        str(ready_writer),
        "--supervisor-pid",
        str(os.getpid()),
        "--rescan-interval",
        str(options.rescan_interval),
        "--shutdown-timeout",
        str(options.shutdown_timeout),
    )
    env = dict(os.environ)
    if options.database_url is not None:
        env[DATABASE_URL_ENV] = options.database_url
    try:
        if slot.log_file is not None:  # reopened: the log may have rotated since
            slot.log_file.close()
        slot.log_file = logfile.open_log(options.paths.worker_log(slot.index))
        slot.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=slot.log_file,
            stderr=slot.log_file,
            pass_fds=(lifeline, ready_writer),
            env=env,
            cwd=options.cwd,
        )
    except OSError as exc:
        os.close(ready_reader)
        slot.failures += 1
        slot.restart_at = time.monotonic() + retry_delay(slot.failures)
        log.error("supervisor.spawn_failed", index=slot.index, error=str(exc))
        return
    finally:
        os.close(ready_writer)
    slot.ready_fd = ready_reader
    slot.ready = False
    slot.restart_at = None
    log.info("supervisor.worker_started", index=slot.index, os_pid=slot.process.pid)


def read_ready(slot: Slot) -> None:
    """Read what the worker of ``slot`` said on its ready pipe."""
    assert slot.ready_fd is not None
    data = os.read(slot.ready_fd, 64)
    slot.close_ready()
    if data.startswith(b"ready"):
        slot.ready = True
        slot.failures = 0


def terminate(slots: Iterable[Slot]) -> None:
    """SIGTERM the worker of every slot that has a live one."""
    for slot in slots:
        if slot.process is not None and slot.process.poll() is None:
            slot.process.send_signal(signal.SIGTERM)


def stop_all(slots: list[Slot], shutdown_timeout: float) -> None:
    """SIGTERM every worker, wait for their graceful stop, kill what outlasts it."""
    terminate(slots)
    deadline = time.monotonic() + shutdown_timeout + KILL_GRACE
    for slot in slots:
        process = slot.process
        if process is None:
            continue
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.error("supervisor.worker_killed", os_pid=process.pid)
            process.kill()
            process.wait()
    for slot in slots:
        slot.close()
