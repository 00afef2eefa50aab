"""What the persistence tests run in other OS processes (started with ``spawn``, never ``fork``).

Functions here run in the child. ``run_in_child`` waits for one to return, raise or die and
reports which, with the child's exit code; ``start_child`` leaves a long-lived child running.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import signal
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any, Self

from persistence import (
    CheckpointWriteError,
    LockedError,
    PersistenceError,
    PicklePersistence,
    RLock,
    WriteStage,
    atomic_write,
)

CONTEXT = multiprocessing.get_context("spawn")
#: Seconds a child may take; generous, since a spawned child imports the whole package first.
CHILD_TIMEOUT = 60.0


@dataclass(frozen=True)
class ChildOutcome:
    """How a child ended: ``returned`` a value, ``raised`` (value is the error text) or ``died``."""

    kind: str
    value: Any
    exitcode: int | None


def _child_main(connection: Connection, func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        result = func(*args)
    except BaseException as exc:
        connection.send(("raised", f"{type(exc).__name__}: {exc}"))
    else:
        connection.send(("returned", result))
    finally:
        connection.close()


def run_in_child(func: Callable[..., Any], *args: Any) -> ChildOutcome:
    """Run ``func(*args)`` in a new OS process and report how it ended."""
    receiver, sender = CONTEXT.Pipe(duplex=False)
    process = CONTEXT.Process(target=_child_main, args=(sender, func, args))
    process.start()
    sender.close()
    try:
        if not receiver.poll(CHILD_TIMEOUT):
            process.kill()
            raise AssertionError(f"the child running {func.__name__} did not end in time")
        try:
            kind, value = receiver.recv()
        except EOFError:
            kind, value = "died", None
    finally:
        process.join(CHILD_TIMEOUT)
        receiver.close()
    return ChildOutcome(kind, value, process.exitcode)


def start_child(func: Callable[..., Any], *args: Any) -> BaseProcess:
    """Start ``func(*args)`` in a new OS process and return it (the caller joins it)."""
    process = CONTEXT.Process(target=func, args=args, daemon=True)
    process.start()
    return process


# What the children do.


def hold_lock(path: str, connection: Connection) -> None:
    """Take the lock, say so, and hold it until told to finish (or killed)."""
    lock = RLock(path)
    lock.acquire()
    connection.send("acquired")
    with contextlib.suppress(EOFError):
        connection.recv()
    lock.release()


@dataclass(frozen=True)
class HeldByChild:
    """A child OS process holding a lock, and how to make it let go."""

    process: BaseProcess
    release: Callable[[], None]


@contextmanager
def lock_held_by_child(path: Path | str) -> Iterator[HeldByChild]:
    """A child holds the lock on ``path`` for the block (until ``release()`` or the end)."""
    ours, theirs = CONTEXT.Pipe()
    process = CONTEXT.Process(target=hold_lock, args=(str(path), theirs), daemon=True)
    process.start()
    theirs.close()
    try:
        if not ours.poll(CHILD_TIMEOUT) or ours.recv() != "acquired":
            raise AssertionError("the child did not take the lock")
        yield HeldByChild(process, lambda: ours.send("release"))
    finally:
        ours.close()  # end of file also tells the child to let go
        process.join(CHILD_TIMEOUT)
        if process.is_alive():
            process.kill()
            process.join(CHILD_TIMEOUT)


def try_lock(path: str, timeout: float) -> str:
    """Try to take the lock within ``timeout``: the name of the outcome."""
    try:
        with RLock(path, timeout=timeout, check_interval=0.01):
            return "acquired"
    except PersistenceError as exc:
        return type(exc).__name__


def kill_at_stage(path: str, data: bytes, stage: str) -> None:
    """Write ``data`` atomically and SIGKILL this process right after ``stage``."""

    def hook(done: WriteStage, _target: Path) -> None:
        if done == stage:
            os.kill(os.getpid(), signal.SIGKILL)

    atomic_write(path, data, hook=hook)


def limit_file_size(limit: int) -> None:
    """Make writes past ``limit`` bytes fail with EFBIG, as on a full disk (SIGXFSZ ignored)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def write_beyond_file_size_limit(path: str, data: bytes, limit: int) -> list[str]:
    """Write ``data`` with the file size limited to ``limit``."""
    limit_file_size(limit)
    atomic_write(path, data)
    return sorted(os.listdir(os.path.dirname(path)))


def save_beyond_file_size_limit(basedir: str, limit: int) -> str:
    """Save a checkpoint of process 1 too big for RLIMIT_FSIZE, then a small one of process 2."""
    persistence = PicklePersistence.create_from_basedir(basedir)
    limit_file_size(limit)
    try:
        persistence.save_state(1, Plain.class_path(), {"state": "running", "blob": b"x" * limit})
    except CheckpointWriteError as exc:
        error = str(exc)
    else:
        raise AssertionError("the checkpoint was written beyond the file size limit")
    persistence.save_state(2, Plain.class_path(), {"state": "running"})
    return error


def race_for_checkpoint(
    basedir: str, path: str, start: Event, finish: Event, results: Queue[str]
) -> None:
    """Load the checkpoint as soon as ``start`` is set, report, and hold it until ``finish``."""
    persistence = PicklePersistence.create_from_basedir(basedir)
    start.wait(CHILD_TIMEOUT)
    try:
        persistence.create_from_file(path)
    except LockedError:
        results.put("locked")
        return
    results.put("loaded")
    finish.wait(CHILD_TIMEOUT)
    persistence.release_all()


class Plain:
    """A restorable class that needs no database: what the lock races load."""

    def __init__(self, state: Mapping[str, Any]) -> None:
        self.state = dict(state)

    @classmethod
    def class_path(cls) -> str:
        """Where the codec finds this class again."""
        return f"{cls.__module__}.{cls.__qualname__}"

    @classmethod
    def load_instance_state(cls, state: Mapping[str, Any]) -> Self:
        """Restore from a saved state."""
        return cls(state)
