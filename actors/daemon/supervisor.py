"""The supervisor: ``python -m actors.daemon.supervisor --home H --workers N``.

It takes the home's supervisor lock (outside the home, see ``DaemonPaths``) for as long as it
lives (so a second daemon on the same home is refused), writes its state file beside it, starts
N worker OS processes with ``subprocess`` (never ``fork``: a forked child would share the
parent's file locks) and restarts any that dies. When a
worker dies its locks die with it; the supervisor wakes the others at once so that they adopt its
processes, and starts a new one. A worker that dies before it is ready is restarted after a
growing delay, so a broken setup does not spin.

Each worker gets the read end of a lifeline pipe whose write end only the supervisor has: if the
supervisor dies, even of SIGKILL, the workers see the pipe close and stop gracefully.

SIGTERM or SIGINT stops the daemon gracefully: every worker gets SIGTERM, lets its running steps
finish, leaves its processes checkpointed in ``running/`` and exits; the next start resumes them.
So does the home being deleted or replaced (``HomeWatch``): the reason is logged and kept in
``stop_note`` beside the lock, outside the home.

SIGHUP makes it read ``target_file`` (``workactors daemon incr|decr``) and reach that many
workers: new ones are started, surplus ones stopped gracefully like at a daemon stop, and the
others adopt what those held.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import select
import signal
import sys
import time
from collections.abc import Callable, Sequence

import structlog
from sqlalchemy.exc import SQLAlchemyError

from actors.daemon import logfile, settings
from actors.daemon.errors import DaemonRunningError
from actors.daemon.housekeeping import PRUNE_INTERVAL, HomeWatch, Retention, prune_finished
from actors.daemon.paths import DaemonPaths
from actors.daemon.settings import (
    HOME_CHECK_INTERVAL,
    MAX_WORKERS,
    RESCAN_INTERVAL,
    SHUTDOWN_TIMEOUT,
)
from actors.daemon.signals import SignalPipe
from actors.daemon.slots import Slot, WorkerOptions, read_ready, retry_delay, spawn, stop_all
from actors.daemon.status import DaemonState, WorkerStatus, write_stop_note
from actors.daemon.wake import notify_workers
from actors.home_identity import check_home
from persistence.atomic import make_private_directory
from persistence.errors import LockError
from persistence.lock import RLock
from provenance.errors import WorkactorsError
from provenance.storage import Storage, sqlite_url

log = structlog.get_logger(__name__)

#: Seconds the supervisor waits for its lock: long enough to ride out a status probe.
LOCK_WAIT = 2.0


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
        home_check_interval: seconds between two looks at the home and the lock.
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
        home_check_interval: float = HOME_CHECK_INTERVAL,
    ) -> None:
        if not 1 <= workers <= MAX_WORKERS:
            raise ValueError(f"a daemon keeps 1 to {MAX_WORKERS} workers, not {workers}")
        self.paths = DaemonPaths.of(home)
        self.database_url = database_url
        self.shutdown_timeout = shutdown_timeout
        self.home_check_interval = home_check_interval
        self._options = WorkerOptions(
            self.paths, database_url, rescan_interval, shutdown_timeout, cwd
        )
        self._on_ready = on_ready
        self._ready_fd = ready_fd
        self._slots = [Slot(index) for index in range(workers)]
        self._retiring: list[Slot] = []
        self._stop_reason: str | None = None
        self._rescale = False
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
        make_private_directory(self.paths.lock_folder)
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
            self.paths.target_file.unlink(missing_ok=True)
            write_stop_note(self.paths, self._stop_reason or "it failed to start")
            lock.release(owner=self)

    def _run_locked(self) -> int:
        self.paths.target_file.unlink(missing_ok=True)
        self.paths.stop_note.unlink(missing_ok=True)
        self._state = DaemonState.of_this_process(len(self._slots), str(self.paths.home))
        self._state.write(self.paths)
        self._remove_dead_statuses()
        problem = self._prepare_database()
        try:
            retention = Retention.from_environment()
        except ValueError as exc:
            problem = problem or str(exc)
        if problem is not None:
            self.request_stop(problem)
            self._announce(f"failed: {problem}")
            log.error("supervisor.failed", reason=problem)
            return 1
        self._lifeline = os.pipe()
        log.info("supervisor.started", workers=len(self._slots), home=str(self.paths.home))
        # SIGCHLD too: its handler does nothing, but its wakeup byte makes the loop reap.
        watched = (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD, signal.SIGHUP)
        try:
            with SignalPipe(watched, self._on_signal) as signals:
                try:
                    failure = self._loop(signals, HomeWatch(self.paths), retention)
                finally:
                    stop_all(self._slots + self._retiring, self.shutdown_timeout)
        finally:
            for end in self._lifeline:
                os.close(end)
        if failure is not None:
            self.request_stop(failure)
            self._announce(f"failed: {failure}")
            log.error("supervisor.failed", reason=failure)
            return 1
        log.info("supervisor.stopped", reason=self._stop_reason)
        return 0

    def _prepare_database(self) -> str | None:
        """Open the database once before any worker does; what is wrong with it, if anything.

        Opening it creates or upgrades its schema. Workers starting together on a new
        PostgreSQL database would otherwise race to create it, and all but one fail. The home
        must belong to this database (``home.json``), which is recorded once it opened.
        """
        url = self.database_url or sqlite_url(self.paths.home / "provenance.sqlite")
        try:
            check_home(self.paths.home, url, record=False)
            Storage(url).dispose()
            check_home(self.paths.home, url)
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
        if name == signal.SIGHUP.name:
            self._rescale = True
        elif name != signal.SIGCHLD.name:
            self.request_stop(f"it received {name}")

    # The loop.

    def _loop(self, signals: SignalPipe, watch: HomeWatch, retention: Retention) -> str | None:
        """Start, reap and restart workers until asked to stop; a start failure's reason."""
        next_check = time.monotonic()
        next_prune = time.monotonic()
        while not self.stopping():
            now = time.monotonic()
            if now >= next_check:
                self._check_home(watch)
                next_check = now + self.home_check_interval
            if now >= next_prune:
                self._prune(retention)
                next_prune = now + PRUNE_INTERVAL
            if self._rescale:
                self._rescale = False
                self._scale_to_target()
            for slot in self._slots:
                if slot.restart_at is not None and slot.restart_at <= now and not self.stopping():
                    assert self._lifeline is not None
                    spawn(slot, self._options, self._lifeline[0])
            ready_fds = [slot.ready_fd for slot in self._slots if slot.ready_fd is not None]
            due = [slot.restart_at for slot in self._slots if slot.restart_at is not None]
            wake_at = min([next_check, next_prune, *due])
            timeout = max(0.0, wake_at - time.monotonic())
            readable, _, _ = select.select([signals.fileno(), *ready_fds], [], [], timeout)
            if signals.fileno() in readable:
                signals.drain()
            for slot in self._slots:
                if slot.ready_fd is not None and slot.ready_fd in readable:
                    read_ready(slot)
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

    def _check_home(self, watch: HomeWatch) -> None:
        problem = watch.problem()
        if problem is not None:
            log.error("supervisor.home_gone", reason=problem)
            self.request_stop(problem)

    def _prune(self, retention: Retention) -> None:
        try:
            removed = prune_finished(self.paths.running / "finished", retention)
        except OSError as exc:
            log.warning("supervisor.prune_failed", error=str(exc))
            return
        if removed:
            log.info("supervisor.pruned_finished", removed=removed)

    def _scale_to_target(self) -> None:
        """Reach the worker count ``target_file`` asks for (``daemon incr|decr``)."""
        try:
            target = int(self.paths.target_file.read_text().strip())
        except (OSError, ValueError) as exc:
            log.warning("supervisor.bad_target", error=str(exc))
            return
        if not 1 <= target <= MAX_WORKERS or target == len(self._slots):
            return
        while len(self._slots) < target:
            used = {slot.index for slot in self._slots + self._retiring}
            self._slots.append(Slot(next(i for i in range(MAX_WORKERS * 2) if i not in used)))
        while len(self._slots) > target:
            slot = self._slots.pop()
            slot.close_ready()
            if slot.process is not None and slot.process.poll() is None:
                slot.process.send_signal(signal.SIGTERM)
            self._retiring.append(slot)
        assert self._state is not None
        self._state = dataclasses.replace(self._state, workers=target)
        self._state.write(self.paths)
        log.info("supervisor.scaled", workers=target)

    def _reap(self) -> str | None:
        """Handle every worker that exited; the reason if the first start cannot succeed."""
        died = False
        for slot in list(self._retiring):
            if slot.process is None or slot.process.poll() is not None:
                log.info("supervisor.worker_retired", index=slot.index)
                slot.close()
                self._retiring.remove(slot)
        for slot in self._slots:
            process = slot.process
            if process is None or process.poll() is None:
                continue
            died = True
            slot.process = None
            slot.close_ready()
            log_path = self.paths.worker_log(slot.index)
            if not slot.ready:
                if not self._announced:
                    return (
                        f"worker {slot.index} exited with status {process.returncode} before it "
                        f"was ready; its log {log_path} says why"
                    )
                slot.failures += 1
            slot.ready = False
            delay = retry_delay(slot.failures) if slot.failures else 0.0
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


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The supervisor's command line."""
    parsed = settings.parser(
        settings.SUPERVISOR_MODULE,
        "The workactors daemon: keeps worker OS processes running on a home.",
    )
    parsed.add_argument("--workers", type=int, default=1)
    parsed.add_argument("--home-check-interval", type=float, default=HOME_CHECK_INTERVAL)
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
        home_check_interval=args.home_check_interval,
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
