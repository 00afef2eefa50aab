"""Real daemon workers and supervisors for the tests, and waiting on what they write.

Workers are OS processes started from the repository root, so that they import the test
processes (``tests.actors.daemon.processes``) by path as they would a user's modules.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actors import Runtime
from actors.cli import queries
from actors.daemon import settings
from actors.daemon.paths import DaemonPaths
from actors.daemon.status import live_workers
from provenance import ProcessNode, ProcessState, load_node

REPOSITORY = Path(__file__).resolve().parents[3]
#: Seconds a worker gets to start (it imports the whole package) and to stop.
PROCESS_TIMEOUT = 60.0
#: Seconds between two looks at a file or the database while waiting for a worker.
POLL = 0.02


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Look at ``condition`` until it is truthy and return it; fail after ``timeout`` s.

    For state another OS process writes (files, the database): there is no event to wait on.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        time.sleep(POLL)


@dataclass
class WorkerProcess:
    """A worker OS process started by a test."""

    index: int
    process: subprocess.Popen[bytes]

    @property
    def os_pid(self) -> int:
        return self.process.pid

    def terminate(self, timeout: float = PROCESS_TIMEOUT) -> int:
        """SIGTERM and wait; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL and reap."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(PROCESS_TIMEOUT)


def spawn_worker(
    home: Path, index: int, *extra: str, pass_fds: tuple[int, ...] = ()
) -> WorkerProcess:
    """Start worker ``index`` on ``home`` (``extra`` arguments, ``pass_fds`` inherited) and
    return once it says it is ready."""
    reader, writer = os.pipe()
    log = DaemonPaths.of(home).worker_log(index)
    log.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key != "WORKACTORS_DATABASE_URL"}
    with log.open("ab") as stderr:
        process = subprocess.Popen(
            settings.command(
                settings.WORKER_MODULE,
                home,
                "--index",
                str(index),
                "--ready-fd",
                str(writer),
                *extra,
            ),
            cwd=REPOSITORY,
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
            pass_fds=(writer, *pass_fds),
            env=env,
        )
    os.close(writer)
    try:
        readable, _, _ = select.select([reader], [], [], PROCESS_TIMEOUT)
        said = os.read(reader, 64) if readable else b""
    finally:
        os.close(reader)
    if not said.startswith(b"ready"):
        process.kill()
        process.wait(PROCESS_TIMEOUT)
        raise AssertionError(f"worker {index} did not start; its log:\n{log.read_text()}")
    return WorkerProcess(index, process)


@contextmanager
def workers(home: Path, count: int, *extra: str) -> Iterator[list[WorkerProcess]]:
    """``count`` workers for the block; stopped (SIGTERM, then SIGKILL) after it."""
    started: list[WorkerProcess] = []
    try:
        for index in range(count):
            started.append(spawn_worker(home, index, *extra))
        yield started
    finally:
        for worker in started:
            try:
                worker.terminate()
            except subprocess.TimeoutExpired:
                worker.kill()


def ended(home: Path, *pids: int) -> bool:
    """True once every one of ``pids`` has its checkpoint retired (finished/ or failed/)."""
    running = home / "running"
    return all(
        (running / "finished" / f"{pid}.pickle").exists()
        or (running / "failed" / f"{pid}.pickle").exists()
        for pid in pids
    )


def stored(pid: int) -> ProcessNode:
    """Process node ``pid`` as the database of the open runtime has it now."""
    node = load_node(pid)
    assert isinstance(node, ProcessNode)
    return node


def state_of(pid: int) -> ProcessState | None:
    """The stored state of ``pid`` (its node reads it fresh)."""
    return stored(pid).process_state


def held_by(home: Path, pid: int) -> int | None:
    """The OS pid of the live worker whose status lists ``pid``, if any."""
    for worker in live_workers(DaemonPaths.of(home)):
        if pid in worker.held:
            return worker.os_pid
    return None


def is_paused(runtime: Runtime, pid: int) -> bool:
    """True while the stored node of ``pid`` says it is paused."""
    with runtime.storage.read_session() as session:
        return queries.process_detail(session, pid).node.paused
