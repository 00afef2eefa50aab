"""Checkpoints that failed (``running/failed``, or failed rows of a shared database): list
them, and put one back in the queue.

A checkpoint is moved to ``failed/`` when a worker cannot resume it: most often the code it
names was changed or removed (``CheckpointLoadError``), sometimes it is damaged. Its process is
then shown EXCEPTED with the reason. Once the user has restored the code that wrote it,
``requeue`` checks the checkpoint again (its signature, that it unpickles and that its class
imports), gives the process back the state the checkpoint records, moves the file back to
``running/`` and wakes the daemon's workers, which resume it as after a restart.

A checkpoint whose process really ended (a process that raised: its checkpoint records a
terminal state) is not requeued: there is nothing left to run.

With a shared (PostgreSQL) database the checkpoints are rows of ``wa_checkpoint``: the same
checks run on the row, under a row lock, which then turns running again and wakes the workers
of every machine (``persistence.pg_queue``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from actors.assembly import database_key
from actors.daemon.errors import DaemonError
from actors.daemon.wake import notify_workers
from persistence.atomic import atomic_move
from persistence.classes import import_class
from persistence.codec import Checkpoint, CheckpointCodec
from persistence.errors import CheckpointError, CheckpointMissingError, LockedError
from persistence.folders import CHECKPOINT_SUFFIX, REASON_SUFFIX, lock_path_of
from persistence.lock import RLock
from persistence.restore import STATE_KEY
from provenance.errors import NotExistentError
from provenance.process_nodes import ProcessNode
from provenance.process_state import ProcessState

if TYPE_CHECKING:
    from actors.runtime import Runtime
    from persistence.pg_queue import QueuedCheckpoint


class RequeueError(DaemonError):
    """A checkpoint in ``failed/`` cannot go back to the queue (the message says why)."""


@dataclass(frozen=True, slots=True)
class FailedCheckpoint:
    """A checkpoint in ``running/failed``: its pid, why it is there and when it was moved."""

    pid: int
    reason: str
    moved: dt.datetime
    size: int


def failed_checkpoints(runtime: Runtime) -> list[FailedCheckpoint]:
    """The failed checkpoints of the runtime's store, by pid: the files in ``running/failed``
    named after a pid, or the failed rows of a shared database."""
    if runtime.shared_database:
        from persistence import pg_queue  # psycopg: only for a shared database

        return [
            FailedCheckpoint(row.pid, row.reason or "", row.updated, row.size)
            for row in pg_queue.failed(runtime.storage.url)
        ]
    found: list[FailedCheckpoint] = []
    for path in runtime.failed_directory.glob(f"*{CHECKPOINT_SUFFIX}"):
        stem = path.name.removesuffix(CHECKPOINT_SUFFIX)
        if not stem.isdigit():
            continue
        reason_file = path.with_name(f"{stem}{REASON_SUFFIX}")
        try:
            reason = reason_file.read_text(errors="replace").strip()
        except FileNotFoundError:
            reason = ""
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        moved = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
        found.append(FailedCheckpoint(int(stem), reason, moved, stat.st_size))
    return sorted(found, key=lambda checkpoint: checkpoint.pid)


def requeue(runtime: Runtime, pid: int) -> ProcessState:
    """Move process ``pid``'s checkpoint from ``failed/`` back to ``running/`` and wake the
    daemon; the state it resumes in.

    Raises:
        RequeueError: if there is no such checkpoint, it still fails its checks (signature,
            unpickling, class import: the message says which and what to do), it records an
            ended process, or process ``pid`` is already queued.
    """
    if runtime.shared_database:
        return _requeue_row(runtime, pid)
    source = runtime.failed_directory / f"{pid}{CHECKPOINT_SUFFIX}"
    target = runtime.running_directory / f"{pid}{CHECKPOINT_SUFFIX}"
    if not source.is_file():
        raise RequeueError(
            f"there is no checkpoint of process {pid} in {runtime.failed_directory}; "
            "`workactors process requeue --list` shows those there are"
        )
    lock = RLock(lock_path_of(target), timeout=0, fail_when_locked=True)
    try:
        lock.acquire(owner=lock)
    except LockedError as exc:
        raise RequeueError(f"process {pid} is held by a running program; it is queued") from exc
    try:
        if target.exists():
            raise RequeueError(f"process {pid} has a checkpoint in running/ already")
        state = _verified_state(runtime, pid, source)
        _revive_node(runtime, pid, state)
        atomic_move(source, target)
        source.with_name(f"{pid}{REASON_SUFFIX}").unlink(missing_ok=True)
    finally:
        lock.release(owner=lock)
    notify_workers(runtime.home)
    return state


def _requeue_row(runtime: Runtime, pid: int) -> ProcessState:
    """``requeue`` for a shared database: the row's checks and revival under its row lock."""
    from persistence import pg_queue  # psycopg: only for a shared database
    from persistence.postgres_store import key_id_of

    key = database_key(runtime.home)
    codec, key_id = CheckpointCodec(key), key_id_of(key)

    def check(row: QueuedCheckpoint) -> ProcessState:
        source = f"postgresql:failed/{pid}"
        if row.data is None:
            raise RequeueError(f"process {pid}'s row holds no checkpoint: submit it again")
        if row.key_id != key_id:
            raise RequeueError(
                f"checkpoint {source} was signed with another machine's key (key id "
                f"{row.key_id}; this one's is {key_id}): requeue it from a machine with that "
                "key, or give every machine the same WORKACTORS_CHECKPOINT_KEY_FILE"
            )
        state = _checked(pid, source, lambda: codec.decode(row.data or b"", source=source))
        _revive_node(runtime, pid, state)
        return state

    try:
        return pg_queue.requeue(runtime.storage.url, pid, check)
    except CheckpointMissingError as exc:
        raise RequeueError(
            f"{exc}; `workactors process requeue --list` shows the failed ones"
        ) from exc
    except pg_queue.RequeueRefusedError as exc:
        raise RequeueError(str(exc)) from exc


def _verified_state(runtime: Runtime, pid: int, source: object) -> ProcessState:
    """The state the checkpoint at ``source`` resumes in, once it passed every check."""
    codec = runtime.home_store.codec
    return _checked(pid, source, lambda: codec.read(str(source)))


def _checked(pid: int, source: object, read: Callable[[], Checkpoint]) -> ProcessState:
    """The state a checkpoint ``read`` resumes in, once it verified, unpickled, its class
    imports, it is ``pid``'s and its process has not ended."""
    try:
        checkpoint = read()
        import_class(checkpoint.class_path)
    except CheckpointError as exc:
        raise RequeueError(f"process {pid} cannot be requeued yet: {exc}") from exc
    if checkpoint.pid != pid:
        raise RequeueError(
            f"{source} holds process {checkpoint.pid}, not {pid}: it was renamed; discard it"
        )
    try:
        state = ProcessState(checkpoint.state.get(STATE_KEY))
    except ValueError as exc:
        raise RequeueError(f"{source} records no process state; discard it") from exc
    if state.is_terminal:
        raise RequeueError(
            f"process {pid} ended {state.name} when this checkpoint was written: there is "
            "nothing left to run. Submit it again to run it anew"
        )
    return state


def _revive_node(runtime: Runtime, pid: int, state: ProcessState) -> None:
    """Record on the node the state the checkpoint resumes in (a refused checkpoint had made
    it EXCEPTED), so that the worker that adopts it does not retire it as ended."""
    try:
        node = runtime.load_node(pid)
    except NotExistentError as exc:
        raise RequeueError(
            f"process {pid} is not in the database at {runtime.storage.location}: the "
            "checkpoint belongs to another database"
        ) from exc
    if not isinstance(node, ProcessNode):
        raise RequeueError(f"node {pid} is not a process; its checkpoint cannot be requeued")
    update = node.set_process_attributes(process_state=state.value, exception=None)
    runtime.backend.write([update])
