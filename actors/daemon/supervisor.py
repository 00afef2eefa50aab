"""The supervisor: ``python -m actors.daemon.supervisor --home H --workers N``.

It takes the home's supervisor lock for as long as it lives (so a second daemon on the same
home is refused), writes ``daemon.json``, starts N worker OS processes with ``subprocess`` (never
``fork``: a forked child would share the parent's file locks) and restarts any that dies. When a
worker dies its locks die with it; the supervisor wakes the others at once so that they adopt its
processes, and starts a new one. A worker that dies before it is ready is restarted after a
growing delay, so a broken setup does not spin.

Each worker gets the read end of a lifeline pipe whose write end only the supervisor has: if the
supervisor dies, even of SIGKILL, the workers see the pipe close and stop gracefully.

SIGTERM or SIGINT stops the daemon gracefully: every worker gets SIGTERM, lets its running steps
finish, leaves its processes checkpointed in ``running/`` and exits; the next start resumes them.
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO

import structlog
from sqlalchemy.exc import SQLAlchemyError

from actors.daemon import logfile, settings
from actors.daemon.errors import DaemonRunningError
from actors.daemon.paths import DaemonPaths
from actors.daemon.settings import RESCAN_INTERVAL, SHUTDOWN_TIMEOUT
from actors.daemon.signals import SignalPipe
from actors.daemon.status import DaemonState, WorkerStatus, process_started
from actors.daemon.wake import notify_workers
from actors.runtime import DATABASE_URL_ENV
from persistence.atomic import make_private_directory
from persistence.errors import LockError
from persistence.lock import RLock
from provenance.errors import WorkactorsError
from provenance.storage import Storage, sqlite_url

log = structlog.get_logger(__name__)

#: Seconds the supervisor waits for its lock: long enough to ride out a status probe.
LOCK_WAIT = 2.0
#: The first and the longest delay before restarting a worker that died before it was ready.
FIRST_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 30.0
#: Seconds beyond the workers' own shutdown timeout before they are killed.
KILL_GRACE = 15.0


@dataclass(slots=True)
class _Slot:
    """One worker position: the process in it now, and its restart bookkeeping."""

    index: int
    process: subprocess.Popen[bytes] | None = None
    ready_fd: int | None = None
    ready: bool = False
    failures: int = 0
    restart_at: float | None = 0.0
    log_file: IO[str] | None = field(default=None, repr=False)


class Supervisor:
    """Keeps N workers running on one home until asked to stop.

    Args:
        home: the workactors home.
        workers: how many worker OS processes to keep.
        database_url: given to the workers (through the environment, not their command line).
        rescan_interval: the workers' safety rescan, in seconds.
        shutdown_timeout: seconds a worker lets its running steps finish when stopping.
        on_ready: called once every worker of the first start is ready.
        ready_fd: where to write ``ready`` (or ``failed: <reason>``) for ``start_daemon``.
        cwd: the workers' working directory (their ``python -m`` finds modules there).
    """

    def __init__(
        self,
        home: str | os.PathLike[str],
        workers: int,
        *,
        database_url: str | None = None,
        rescan_interval: float = RESCAN_INTERVAL,
        shutdown_timeout: float = SHUTDOWN_TIMEOUT,
        on_ready: Callable[[DaemonState], None] | None = None,
        ready_fd: int | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"a daemon needs at least one worker, not {workers}")
        self.paths = DaemonPaths.of(home)
        self.database_url = database_url
        self.rescan_interval = rescan_interval
        self.shutdown_timeout = shutdown_timeout
        self.cwd = cwd
        self._on_ready = on_ready
        self._ready_fd = ready_fd
        self._slots = [_Slot(index) for index in range(workers)]
        self._stop_reason: str | None = None
        self._announced = False
        self._lifeline: tuple[int, int] | None = None
        self._state: DaemonState | None = None

    def stopping(self) -> bool:
        """True once a stop was requested."""
        return self._stop_reason is not None

    def request_stop(self, reason: str) -> None:
        """Stop at the next turn of the loop (from a signal handler or another thread)."""
        if self._stop_reason is None:
            self._stop_reason = reason

    def run(self) -> int:
        """Supervise until stopped; the exit status (0 after a graceful stop).

        Raises:
            DaemonRunningError: if another daemon holds this home.
        """
        make_private_directory(self.paths.folder)
        lock = RLock(self.paths.supervisor_lock, timeout=LOCK_WAIT)
        try:
            lock.acquire(owner=self)
        except LockError as exc:
            state = DaemonState.read(self.paths)
            holder = f" (supervisor OS pid {state.os_pid})" if state else ""
            raise DaemonRunningError(
                f"a daemon already runs on {self.paths.home}{holder}; stop it with "
                "`workactors daemon stop` or use it as it is"
            ) from exc
        try:
            return self._run_locked()
        finally:
            self.paths.state_file.unlink(missing_ok=True)
            lock.release(owner=self)

    def _run_locked(self) -> int:
        pid = os.getpid()
        self._state = DaemonState(
            os_pid=pid,
            started=process_started(pid) or time.time(),
            workers=len(self._slots),
            home=str(self.paths.home),
        )
        self._state.write(self.paths)
        self._remove_dead_statuses()
        problem = self._prepare_database()
        if problem is not None:
            self._announce(f"failed: {problem}")
            log.error("supervisor.failed", reason=problem)
            return 1
        self._lifeline = os.pipe()
        log.info("supervisor.started", workers=len(self._slots), home=str(self.paths.home))
        # SIGCHLD too: its handler does nothing, but its wakeup byte makes the loop reap.
        watched = (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD)
        try:
            with SignalPipe(watched, self._on_signal) as signals:
                try:
                    failure = self._loop(signals)
                finally:
                    self._stop_workers()
        finally:
            for end in self._lifeline:
                os.close(end)
        if failure is not None:
            self._announce(f"failed: {failure}")
            log.error("supervisor.failed", reason=failure)
            return 1
        log.info("supervisor.stopped", reason=self._stop_reason)
        return 0

    def _prepare_database(self) -> str | None:
        """Open the database once before any worker does; what is wrong with it, if anything.

        Opening it creates or upgrades its schema. Workers starting together on a new
        PostgreSQL database would otherwise race to create it, and all but one fail.
        """
        url = self.database_url or sqlite_url(self.paths.home / "provenance.sqlite")
        try:
            Storage(url).dispose()
        except WorkactorsError as exc:
            return str(exc)
        except SQLAlchemyError as exc:
            return f"cannot use the database at {url}: {exc}"
        return None

    def _remove_dead_statuses(self) -> None:
        """Forget the status files of workers of an earlier daemon that was killed."""
        for path in self.paths.worker_statuses():
            status = WorkerStatus.read(path)
            if status is None or not status.alive:
                path.unlink(missing_ok=True)

    def _on_signal(self, name: str) -> None:
        if name != signal.SIGCHLD.name:
            self.request_stop(name)

    # The loop.

    def _loop(self, signals: SignalPipe) -> str | None:
        """Start, reap and restart workers until asked to stop; a start failure's reason."""
        while not self.stopping():
            now = time.monotonic()
            for slot in self._slots:
                if slot.restart_at is not None and slot.restart_at <= now:
                    self._spawn(slot)
            ready_fds = [slot.ready_fd for slot in self._slots if slot.ready_fd is not None]
            due = [slot.restart_at for slot in self._slots if slot.restart_at is not None]
            timeout = max(0.0, min(due) - time.monotonic()) if due else None
            readable, _, _ = select.select([signals.fileno(), *ready_fds], [], [], timeout)
            if signals.fileno() in readable:
                signals.drain()
            for slot in self._slots:
                if slot.ready_fd is not None and slot.ready_fd in readable:
                    self._read_ready(slot)
            failure = self._reap()
            if failure is not None:
                return failure
            if not self._announced and all(slot.ready for slot in self._slots):
                self._announced = True
                self._announce("ready")
                log.info("supervisor.ready", workers=len(self._slots))
                if self._on_ready is not None and self._state is not None:
                    self._on_ready(self._state)
        return None

    def _spawn(self, slot: _Slot) -> None:
        assert self._lifeline is not None
        ready_reader, ready_writer = os.pipe()
        lifeline = self._lifeline[0]
        command = settings.command(
            settings.WORKER_MODULE,
            self.paths.home,
            "--index",
            str(slot.index),
            "--lifeline-fd",
            str(lifeline),
            "--ready-fd",
            str(ready_writer),
            "--supervisor-pid",
            str(os.getpid()),
            "--rescan-interval",
            str(self.rescan_interval),
            "--shutdown-timeout",
            str(self.shutdown_timeout),
        )
        env = dict(os.environ)
        if self.database_url is not None:
            env[DATABASE_URL_ENV] = self.database_url
        if slot.log_file is None:
            slot.log_file = logfile.open_log(self.paths.worker_log(slot.index))
        try:
            slot.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=slot.log_file,
                stderr=slot.log_file,
                pass_fds=(lifeline, ready_writer),
                env=env,
                cwd=self.cwd,
            )
        except OSError as exc:
            os.close(ready_reader)
            slot.failures += 1
            slot.restart_at = time.monotonic() + _retry_delay(slot.failures)
            log.error("supervisor.spawn_failed", index=slot.index, error=str(exc))
            return
        finally:
            os.close(ready_writer)
        slot.ready_fd = ready_reader
        slot.ready = False
        slot.restart_at = None
        log.info("supervisor.worker_started", index=slot.index, os_pid=slot.process.pid)

    def _read_ready(self, slot: _Slot) -> None:
        assert slot.ready_fd is not None
        data = os.read(slot.ready_fd, 64)
        os.close(slot.ready_fd)
        slot.ready_fd = None
        if data.startswith(b"ready"):
            slot.ready = True
            slot.failures = 0

    def _reap(self) -> str | None:
        """Handle every worker that exited; the reason if the first start cannot succeed."""
        died = False
        for slot in self._slots:
            process = slot.process
            if process is None or process.poll() is None:
                continue
            died = True
            slot.process = None
            if slot.ready_fd is not None:
                os.close(slot.ready_fd)
                slot.ready_fd = None
            log_path = self.paths.worker_log(slot.index)
            if not slot.ready:
                if not self._announced:
                    return (
                        f"worker {slot.index} exited with status {process.returncode} before it "
                        f"was ready; its log {log_path} says why"
                    )
                slot.failures += 1
            slot.ready = False
            delay = _retry_delay(slot.failures) if slot.failures else 0.0
            slot.restart_at = time.monotonic() + delay
            log.warning(
                "supervisor.worker_died",
                index=slot.index,
                os_pid=process.pid,
                status=process.returncode,
                restart_in=delay,
            )
        if died:
            # Its locks died with it: the others adopt its processes now, not at their rescan.
            notify_workers(self.paths.home)
        return None

    def _announce(self, line: str) -> None:
        if self._ready_fd is None:
            return
        try:
            os.write(self._ready_fd, f"{line}\n".encode())
        except OSError:
            pass  # whoever started us is gone; the log has it
        finally:
            os.close(self._ready_fd)
            self._ready_fd = None

    def _stop_workers(self) -> None:
        """SIGTERM every worker, wait for their graceful stop, kill what outlasts it."""
        running = [slot.process for slot in self._slots if slot.process is not None]
        for process in running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.shutdown_timeout + KILL_GRACE
        for process in running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("supervisor.worker_killed", os_pid=process.pid)
                process.kill()
                process.wait()
        for slot in self._slots:
            if slot.ready_fd is not None:
                os.close(slot.ready_fd)
                slot.ready_fd = None
            if slot.log_file is not None:
                slot.log_file.close()
                slot.log_file = None
            slot.process = None


def _retry_delay(failures: int) -> float:
    return float(min(MAX_RETRY_DELAY, FIRST_RETRY_DELAY * 2 ** max(0, failures - 1)))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The supervisor's command line."""
    parsed = settings.parser(
        settings.SUPERVISOR_MODULE,
        "The workactors daemon: keeps worker OS processes running on a home.",
    )
    parsed.add_argument("--workers", type=int, default=1)
    return parsed.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the supervisor; the exit status."""
    args = parse_args(argv)
    paths = DaemonPaths.of(args.home)
    make_private_directory(paths.folder)
    logfile.configure(paths.supervisor_log)
    supervisor = Supervisor(
        paths.home,
        args.workers,
        database_url=args.database_url,
        rescan_interval=args.rescan_interval,
        shutdown_timeout=args.shutdown_timeout,
        ready_fd=args.ready_fd,
    )
    try:
        return supervisor.run()
    except DaemonRunningError as exc:
        log.error("supervisor.refused", reason=str(exc))
        if args.ready_fd is not None:
            os.write(args.ready_fd, f"failed: {exc}\n".encode())
        return 1


if __name__ == "__main__":
    sys.exit(main())
