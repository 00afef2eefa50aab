"""Starting and stopping the daemon of a home from another program (the CLI, a benchmark).

``start_daemon`` launches the supervisor as a detached OS process (a new session, so that it
outlives the terminal) and waits on a pipe for its word: ``ready`` once every worker is up, or
``failed: <reason>``. ``stop_daemon`` sends it SIGTERM and waits for its lock to be released,
which happens only when it has stopped its workers. ``scale_daemon`` writes the worker count
wanted beside the lock, sends SIGHUP and waits until that many workers serve.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from pathlib import Path

from actors.daemon import logfile, settings
from actors.daemon.errors import (
    DaemonError,
    DaemonRunningError,
    DaemonStartError,
    DaemonStopTimeoutError,
)
from actors.daemon.paths import DaemonPaths
from actors.daemon.settings import (
    HOME_CHECK_INTERVAL,
    MAX_WORKERS,
    RESCAN_INTERVAL,
    SHUTDOWN_TIMEOUT,
)
from actors.daemon.status import DaemonState, live_workers, supervisor_running
from actors.home_identity import check_home
from actors.runtime import DATABASE_URL_ENV
from persistence.atomic import atomic_write, make_private_directory
from persistence.errors import LockError
from persistence.lock import RLock
from provenance.storage import sqlite_url

#: Seconds ``start_daemon`` waits for every worker to be ready.
START_TIMEOUT = 60.0
#: Seconds ``stop_daemon`` waits, by default, for running steps to finish.
STOP_TIMEOUT = SHUTDOWN_TIMEOUT + 30.0
LOG_TAIL_LINES = 15
#: Seconds between two reads of the daemon's files while waiting for it to scale.
STATE_POLL = 0.05
#: Seconds a supervisor that failed to start gets to stop its workers and exit.
EXIT_TIMEOUT = 30.0
#: Seconds a supervisor may hold its lock without a state file naming it: one starting writes
#: the file just after taking the lock, one stopping removes it just before releasing it.
STATE_GRACE = 5.0


def start_daemon(
    home: str | os.PathLike[str],
    workers: int = 1,
    *,
    database_url: str | None = None,
    rescan_interval: float = RESCAN_INTERVAL,
    shutdown_timeout: float = SHUTDOWN_TIMEOUT,
    timeout: float = START_TIMEOUT,
    cwd: str | os.PathLike[str] | None = None,
    home_check_interval: float = HOME_CHECK_INTERVAL,
) -> DaemonState:
    """Start the daemon of ``home`` in the background; return once its workers are ready.

    Workers import process classes by module path: start the daemon where (working directory,
    virtual environment, ``PYTHONPATH``) those modules import.

    Raises:
        DaemonRunningError: if a daemon already runs on ``home``.
        DaemonStartError: if the supervisor or a worker failed, or not all were ready in time.
        HomeMismatchError: if the home belongs to another database than the one given.
    """
    paths = DaemonPaths.of(home)
    make_private_directory(paths.folder)
    make_private_directory(paths.lock_folder)
    if supervisor_running(paths):
        raise _already_running(paths)
    url = database_url or os.environ.get(DATABASE_URL_ENV)
    check_home(paths.home, url or sqlite_url(paths.home / "provenance.sqlite"), record=False)
    reader, writer = os.pipe()
    command = settings.command(
        settings.SUPERVISOR_MODULE,
        paths.home,
        "--workers",
        str(workers),
        "--ready-fd",
        str(writer),
        "--rescan-interval",
        str(rescan_interval),
        "--shutdown-timeout",
        str(shutdown_timeout),
        "--home-check-interval",
        str(home_check_interval),
    )
    env = dict(os.environ)
    if database_url is not None:
        env[DATABASE_URL_ENV] = database_url
    try:
        with logfile.open_log(paths.supervisor_log) as log_file:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
                pass_fds=(writer,),
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
    finally:
        os.close(writer)
    try:
        word = _read_word(reader, timeout)
    finally:
        os.close(reader)
    if word == "ready":
        state = DaemonState.read(paths)
        if state is not None:
            return state
        word = "failed: the supervisor said it was ready but wrote no state file"
    if word is None:
        process.poll()
        if process.returncode is None:
            process.terminate()
            word = f"failed: not ready within {timeout:g} s"
        else:
            word = f"failed: the supervisor exited with status {process.returncode}"
    # It exits right after saying why (stopping its workers, releasing its lock): let it.
    try:
        process.wait(EXIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    reason = word.removeprefix("failed: ")
    if "already runs" in reason:
        raise DaemonRunningError(reason)
    raise DaemonStartError(f"{reason}\n{_log_tail(paths.supervisor_log)}".rstrip())


def _read_word(reader: int, timeout: float) -> str | None:
    """The first line written on ``reader`` within ``timeout``; None on timeout or end."""
    deadline = time.monotonic() + timeout
    received = b""
    while b"\n" not in received:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        readable, _, _ = select.select([reader], [], [], remaining)
        if not readable:
            return None
        chunk = os.read(reader, 4096)
        if not chunk:
            break
        received += chunk
    line = received.decode(errors="replace").split("\n", 1)[0].strip()
    return line or None


def _log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    tail = text.splitlines()[-lines:]
    return f"last lines of {path}:\n" + "\n".join(tail) if tail else ""


def _already_running(paths: DaemonPaths) -> DaemonRunningError:
    state = DaemonState.read(paths)
    holder = f" (supervisor OS pid {state.os_pid}, {state.workers} workers)" if state else ""
    return DaemonRunningError(
        f"a daemon already runs on {paths.home}{holder}; `workactors daemon stop` stops it"
    )


def stop_daemon(
    home: str | os.PathLike[str], timeout: float = STOP_TIMEOUT, *, state_grace: float = STATE_GRACE
) -> DaemonState | None:
    """Stop the daemon of ``home`` gracefully and wait for it; None if none was running.

    Running steps finish; processes stay checkpointed in ``running/`` and resume at the next
    start.

    Raises:
        DaemonStopTimeoutError: if it is still stopping after ``timeout`` seconds.
        DaemonError: if a daemon holds the home but its state file does not say which, for
            all of ``state_grace`` seconds.
    """
    paths = DaemonPaths.of(home)
    state = _running_state(paths, state_grace)
    if state is None:
        return None
    os.kill(state.os_pid, signal.SIGTERM)
    wait_stopped(paths, timeout)
    return state


def _running_state(paths: DaemonPaths, grace: float = STATE_GRACE) -> DaemonState | None:
    """The state of the supervisor that holds the lock of ``paths``; None if none does.

    A supervisor holds its lock for a moment without a state file naming it as it starts and
    as it stops: this waits up to ``grace`` seconds for the file, or for the lock's release.

    Raises:
        DaemonError: if the lock is held and the state file names no live supervisor for all
            of ``grace``.
    """
    deadline = time.monotonic() + grace
    while supervisor_running(paths):
        state = DaemonState.read(paths)
        if state is not None and state.alive:
            return state
        if time.monotonic() > deadline:
            raise DaemonError(
                f"a daemon holds {paths.supervisor_lock} but {paths.state_file} does not name a "
                "live supervisor; find it with `fuser` and stop it by hand"
            )
        time.sleep(STATE_POLL)
    return None


def wait_stopped(paths: DaemonPaths, timeout: float) -> None:
    """Wait until no supervisor holds the home's lock.

    Raises:
        DaemonStopTimeoutError: if one still does after ``timeout`` seconds.
    """
    lock = RLock(paths.supervisor_lock, timeout=timeout, check_interval=0.05)
    try:
        lock.acquire(owner=lock)
    except LockError as exc:
        raise DaemonStopTimeoutError(
            f"the daemon of {paths.home} is still stopping after {timeout:g} s: its workers "
            "let running steps finish first. Wait and run `workactors daemon stop` again"
        ) from exc
    lock.release(owner=lock)


def scale_daemon(
    home: str | os.PathLike[str], workers: int, timeout: float = START_TIMEOUT
) -> DaemonState:
    """Have the running daemon of ``home`` keep ``workers`` workers; return once it does.

    New workers start, surplus ones stop gracefully (their running steps finish; the others
    adopt their processes).

    Raises:
        DaemonError: if no daemon runs on ``home``, or ``workers`` is out of range.
        DaemonStartError: if the daemon has not reached the count within ``timeout``.
    """
    paths = DaemonPaths.of(home)
    if not 1 <= workers <= MAX_WORKERS:
        raise DaemonError(f"a daemon keeps 1 to {MAX_WORKERS} workers, not {workers}")
    state = _running_state(paths)
    if state is None:
        raise DaemonError(
            f"no daemon runs on {paths.home}; `workactors daemon start --workers {workers}` "
            "starts one"
        )
    atomic_write(paths.target_file, f"{workers}\n".encode())
    os.kill(state.os_pid, signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while True:
        now = DaemonState.read(paths)
        if now is not None and now.workers == workers and len(live_workers(paths)) == workers:
            return now
        if time.monotonic() > deadline or not supervisor_running(paths):
            have = len(live_workers(paths))
            raise DaemonStartError(
                f"the daemon of {paths.home} has {have} live worker(s), not {workers}, after "
                f"{timeout:g} s; `workactors daemon logs` says why"
            )
        time.sleep(STATE_POLL)
