"""A daemon worker: ``python -m actors.daemon.worker --home H --index N``.

It runs one durable ``Runtime``: every process it adopts or launches is held under its
checkpoint lock and checkpointed after every step. It sleeps in ``select`` on its wake socket,
its signal pipe and (under a supervisor) its lifeline, and wakes for:

- a wake: adopt the checkpoints nobody holds (new submissions, or those of a dead worker);
- ``terminated <pid>``: a process ended in another worker; release what waits on it here;
- ``pause|play|kill <pid>``: act on the process if this worker holds it;
- every ``rescan_interval`` seconds: adopt again and re-read the ends it may have missed;
- SIGTERM/SIGINT, or the supervisor's death (its lifeline closes): stop gracefully. Running
  steps finish, processes stay checkpointed in ``running/`` for the next worker, exit 0.

With checkpoints in a shared PostgreSQL database, it also ``LISTEN``s on the database's channel
(``persistence.pg_notify``) for the same messages sent from any machine, relays the ends of its
processes there, and looks for claims whose lease ran out every half lease, so that the
processes of a dead worker on any machine are taken over within about one and a half leases.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import select
import signal
import sys
import time
from collections.abc import Sequence

import sqlalchemy as sa
import structlog

from actors.assembly import lease_seconds
from actors.control import Action
from actors.daemon import logfile, settings
from actors.daemon.outbox import Outbox
from actors.daemon.paths import DaemonPaths
from actors.daemon.settings import RESCAN_INTERVAL, SHUTDOWN_TIMEOUT
from actors.daemon.signals import SignalPipe
from actors.daemon.status import WorkerStatus
from actors.daemon.wake import (
    WAKE,
    ControlRequest,
    Inbox,
    Message,
    Terminated,
    Wake,
    notify_workers,
)
from actors.runtime import Runtime
from persistence.pg_notify import DatabaseNotifier, NotifyListener
from provenance.models import DbNode
from provenance.process_nodes import ProcessNode
from provenance.process_state import ProcessState
from provenance.storage import Storage

log = structlog.get_logger(__name__)

#: How far back a rescan looks for ends it may have missed, beyond the previous rescan.
RESCAN_OVERLAP = dt.timedelta(seconds=5)

_TERMINAL_VALUES = [state.value for state in ProcessState if state.is_terminal]


def ended_since(storage: Storage, since: dt.datetime) -> list[int]:
    """The pids of processes whose node changed at or after ``since`` and is now terminal."""
    query = sa.select(DbNode.id).where(
        DbNode.node_type.startswith(ProcessNode.node_type),
        DbNode.mtime >= since,
        DbNode.attributes["process_state"].as_string().in_(_TERMINAL_VALUES),
    )
    with storage.read_session() as session:
        return list(session.execute(query).scalars())


class Worker:
    """One worker OS process; ``run`` blocks until it is asked to stop.

    Args:
        home: the workactors home whose ``running/`` folder it serves.
        index: its number in the daemon (names its socket, log and status file).
        database_url: the provenance database; default as ``Runtime`` decides.
        rescan_interval: seconds between safety rescans.
        shutdown_timeout: seconds a graceful stop waits for running steps.
        lifeline_fd: read end of a pipe whose writer is the supervisor; its end stops us.
        ready_fd: write end of a pipe on which to say "ready" once it serves.
        supervisor_pid: recorded in the status file.
    """

    def __init__(
        self,
        home: str | os.PathLike[str],
        index: int,
        *,
        database_url: str | None = None,
        rescan_interval: float = RESCAN_INTERVAL,
        shutdown_timeout: float = SHUTDOWN_TIMEOUT,
        lifeline_fd: int | None = None,
        ready_fd: int | None = None,
        supervisor_pid: int | None = None,
    ) -> None:
        self.paths = DaemonPaths.of(home)
        self.index = index
        self.database_url = database_url
        self.rescan_interval = rescan_interval
        self.shutdown_timeout = shutdown_timeout
        self._lifeline_fd = lifeline_fd
        self._ready_fd = ready_fd
        self._supervisor_pid = supervisor_pid
        self._stop_reason: str | None = None
        self._last_rescan = dt.datetime.now(dt.UTC)
        #: Ends heard of but not passed on (the database could not be read): tried again at
        #: the next claim turn, not only at the next rescan.
        self._unnoticed: set[int] = set()

    def run(self) -> int:
        """Serve until stopped; the exit status (0 after a graceful stop)."""
        stop_signals = (signal.SIGTERM, signal.SIGINT)
        with (
            SignalPipe(stop_signals, self.request_stop) as signals,
            Inbox(self.paths, self.index) as inbox,
        ):
            runtime = Runtime(self.paths.home, database_url=self.database_url, durable=True)
            shared = runtime.storage.url if runtime.shared_database else None
            listener = NotifyListener(shared) if shared is not None else None
            remote = DatabaseNotifier(shared) if shared is not None else None
            status = WorkerStatus.of_this_process(self.index, self._supervisor_pid)
            outbox = Outbox(self.paths, status, inbox.path, remote=remote)
            try:
                runtime.add_listener(outbox.on_event)
                outbox.start()
                self._say_ready()
                log.info("worker.started", index=self.index, home=str(self.paths.home))
                self._serve(runtime, inbox, signals, listener)
            finally:
                log.info("worker.stopping", index=self.index, reason=self._stop_reason)
                runtime.shutdown(timeout=self.shutdown_timeout)
                outbox.stop()
                if listener is not None:
                    listener.close()
                self.paths.worker_status(self.index).unlink(missing_ok=True)
        # Our locks are released: whoever still serves this home may adopt what we held.
        notify_workers(self.paths.home)
        if remote is not None:
            remote.send(WAKE)
        log.info("worker.stopped", index=self.index)
        return 0

    def stopping(self) -> bool:
        """True once a stop was requested."""
        return self._stop_reason is not None

    def request_stop(self, reason: str) -> None:
        """Stop at the next turn of the loop (from a signal handler or another thread)."""
        if self._stop_reason is None:
            self._stop_reason = reason

    # Setup.

    def _say_ready(self) -> None:
        if self._ready_fd is None:
            return
        try:
            os.write(self._ready_fd, b"ready\n")
        except OSError as exc:  # the supervisor is gone; the lifeline will tell us
            log.warning("worker.ready_not_sent", error=str(exc))
        finally:
            os.close(self._ready_fd)
            self._ready_fd = None

    # The loop.

    def _serve(
        self,
        runtime: Runtime,
        inbox: Inbox,
        signals: SignalPipe,
        listener: NotifyListener | None = None,
    ) -> None:
        """Wait for work and do it until asked to stop.

        Stop requests are looked at before anything else, the first adoption included: a
        worker whose supervisor died while it started must not take processes only to drop
        them again.
        """
        fixed: list[int] = [inbox.fileno(), signals.fileno()]
        if self._lifeline_fd is not None:
            fixed.append(self._lifeline_fd)
        adopt = True  # what was queued before we started
        next_rescan = time.monotonic() + self.rescan_interval
        # A shared database: claims of dead workers run out without a wake; look for them.
        claim_interval = lease_seconds() / 2 if listener is not None else self.rescan_interval
        next_claim = time.monotonic() + claim_interval
        while not self.stopping():
            watched = list(fixed)
            if listener is not None and listener.fileno() >= 0:
                watched.append(listener.fileno())
            elif listener is not None:
                adopt = True  # reconnect at once
            wake_at = min(next_rescan, next_claim)
            timeout = 0.0 if adopt else max(0.0, wake_at - time.monotonic())
            readable, _, _ = select.select(watched, [], [], timeout)
            if signals.fileno() in readable:
                signals.drain()
            if self._lifeline_fd in readable and not os.read(self._lifeline_fd, 64):
                self.request_stop("the supervisor is gone")
            if self.stopping():
                break
            if inbox.fileno() in readable:
                adopt |= self._handle(runtime, inbox.drain())
            if listener is not None and (adopt or listener.fileno() in readable):
                adopt |= self._listen(runtime, listener)
            if time.monotonic() >= next_claim:
                adopt = True
                next_claim = time.monotonic() + claim_interval
                self._notice_again(runtime)
            if adopt:
                # A shared database hands out claims in batches: go on while they come.
                adopt = bool(self._adopt(runtime)) and listener is not None
            if time.monotonic() >= next_rescan:
                self._rescan(runtime)
                next_rescan = time.monotonic() + self.rescan_interval

    def _handle(self, runtime: Runtime, messages: Sequence[Message]) -> bool:
        """Act on a batch of messages; True if one was a wake (the caller adopts once)."""
        wake = False
        for message in messages:
            match message:
                case Wake():
                    wake = True
                case Terminated(pid=pid):
                    self._notice(runtime, pid)
                case ControlRequest():
                    self._control(runtime, message)
        return wake

    def _listen(self, runtime: Runtime, listener: NotifyListener) -> bool:
        """Act on what the database's channel brought; True if it asks for an adoption."""
        try:
            records = listener.drain()
        except Exception as exc:  # the server is down: the loop tries again at the next turn
            log.warning("worker.listen_failed", error=repr(exc)[:200])
            return False
        return self._handle(
            runtime, [r for r in records if isinstance(r, Wake | Terminated | ControlRequest)]
        )

    def _adopt(self, runtime: Runtime) -> list[int]:
        if self._lifeline_fd is not None and _closed(self._lifeline_fd):
            self.request_stop("the supervisor is gone")
            return []
        try:
            adopted = runtime.adopt_checkpoints()
        except Exception as exc:  # the database may be busy: the next wake or rescan retries
            log.error("worker.adopt_failed", error=repr(exc))
            return []
        if adopted:
            log.debug("worker.adopted", pids=adopted)  # the runtime logs durable.adopted
        return adopted

    def _notice(self, runtime: Runtime, pid: int) -> None:
        try:
            runtime.notice_terminated(pid)
        except Exception as exc:  # the database restarts: a parent here would wait a rescan
            log.warning("worker.notice_failed", pid=pid, error=repr(exc))
            self._unnoticed.add(pid)
        else:
            self._unnoticed.discard(pid)

    def _notice_again(self, runtime: Runtime) -> None:
        """Pass on the ends whose notice the database failed."""
        for pid in sorted(self._unnoticed):
            self._notice(runtime, pid)

    def _control(self, runtime: Runtime, request: ControlRequest) -> None:
        pid = request.pid
        try:
            match request.action:
                case Action.PAUSE:
                    applied = runtime.pause(pid)
                case Action.PLAY:
                    applied = runtime.play(pid)
                case Action.KILL:
                    applied = runtime.kill(pid, request.message)
        except Exception as exc:
            log.error("worker.control_failed", pid=pid, action=request.action, error=repr(exc))
            return
        if applied:
            log.info("worker.control", pid=pid, action=request.action.value)

    def _rescan(self, runtime: Runtime) -> None:
        """Adopt what a lost wake left behind, and re-deliver ends a lost relay left unsaid."""
        since = self._last_rescan - RESCAN_OVERLAP
        self._last_rescan = dt.datetime.now(dt.UTC)
        self._adopt(runtime)
        try:
            ended = ended_since(runtime.storage, since)
        except Exception as exc:
            log.warning("worker.rescan_failed", error=repr(exc))
            return
        for pid in ended:
            self._notice(runtime, pid)


def _closed(fd: int) -> bool:
    """True if the pipe ``fd`` reads from has no writer left (nothing is ever written to it)."""
    readable, _, _ = select.select([fd], [], [], 0)
    return bool(readable)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The worker's command line."""
    parsed = settings.parser(
        settings.WORKER_MODULE,
        "A workactors daemon worker: resumes and runs the checkpoints of a home.",
    )
    parsed.add_argument("--index", required=True, type=int)
    parsed.add_argument("--lifeline-fd", type=int, help="Stop when this pipe closes.")
    parsed.add_argument("--supervisor-pid", type=int)
    parsed.add_argument("--echo", action="store_true", help="Log to stderr too.")
    return parsed.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one worker; the exit status."""
    args = parse_args(argv)
    paths = DaemonPaths.of(args.home)
    logfile.configure(paths.worker_log(args.index), echo=args.echo)
    worker = Worker(
        paths.home,
        args.index,
        database_url=args.database_url,
        rescan_interval=args.rescan_interval,
        shutdown_timeout=args.shutdown_timeout,
        lifeline_fd=args.lifeline_fd,
        ready_fd=args.ready_fd,
        supervisor_pid=args.supervisor_pid,
    )
    try:
        return worker.run()
    except Exception as exc:
        log.exception("worker.failed", index=args.index, error=str(exc))
        return 1


if __name__ == "__main__":
    sys.exit(main())
