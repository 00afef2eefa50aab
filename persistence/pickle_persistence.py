"""``PicklePersistence``: process checkpoints as signed pickle files in three folders.

A process's checkpoint lives in ``running/`` until it terminates; then it moves to ``finished/``
(finished, killed) or ``failed/`` (excepted), and so does a checkpoint refused on load, with the
reason beside it (``CheckpointFolders``). Every write is atomic (``atomic_write``) and made under
the process's ``RLock``.

A loaded process's lock is held (``HeldLocks``) until its terminal checkpoint is saved or
``release(pid)`` is called: no other worker or thread loads it meanwhile, and any thread of this
runtime (the persistence actor) may save its checkpoints. Loading, and refusing what cannot be
loaded, is ``FileAdopter``'s; this class saves, retires and answers the ``CheckpointStore``
protocol. Use one ``PicklePersistence`` per folder in an OS process.

This package does not import ``actors``: a checkpoint records its class path, and the class is
imported by path (``import_class``) and asked to ``load_instance_state(state)``.
"""

from __future__ import annotations

import os
import pickle
import threading
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any, Self

from persistence.atomic import WriteHook, atomic_write, atomic_write_many
from persistence.codec import Checkpoint, CheckpointCodec
from persistence.errors import CheckpointError
from persistence.file_adoption import FileAdopter
from persistence.folders import CheckpointFolders
from persistence.held_locks import HeldLocks
from persistence.intents import take_intent, write_intent
from persistence.messages import Intent
from persistence.persistable import PersistableProcess, class_path_of
from persistence.restore import terminal_state
from persistence.spare_files import SpareFiles
from persistence.store import UnreadableHook, outcome_of, unwrap
from provenance.log import get_logger
from provenance.process_state import ProcessState

__all__ = ["KEY_FILE_NAME", "PersistableProcess", "PicklePersistence", "class_path_of"]

log = get_logger(__name__)

KEY_FILE_NAME = "checkpoint.key"


class PicklePersistence:
    """Saves, loads and retires process checkpoints; holds the locks of the processes it loaded.

    Args:
        running_directory: checkpoints of processes that have not terminated.
        finished_directory: checkpoints of processes that finished or were killed.
        failed_directory: checkpoints of processes that excepted, and refused checkpoints.
        key_file: the HMAC key; default ``<parent of running_directory>/checkpoint.key``,
            created (0600) if missing.
        lock_timeout: seconds a save waits for a process's lock held by another owner.
        on_unreadable: called as ``on_unreadable(pid, reason)`` after a refused checkpoint was
            moved to ``failed_directory``, on the thread that ran ``load_all_processes``.
        write_hook: passed to ``atomic_write`` for every checkpoint write (fault tests).
        pickle_protocol: the pickle protocol checkpoints are written with.

    Folders are created 0700 and checkpoint files are 0600, whatever the umask.

    Raises:
        PersistenceError: if a folder cannot be created or belongs to another user.
        CheckpointKeyError: if the key file is not private, or damaged.
    """

    def __init__(
        self,
        running_directory: str | os.PathLike[str] = "/tmp/running",
        finished_directory: str | os.PathLike[str] = "/tmp/running/finished",
        failed_directory: str | os.PathLike[str] = "/tmp/running/failed",
        *,
        key_file: str | os.PathLike[str] | None = None,
        lock_timeout: float = 5,
        on_unreadable: UnreadableHook | None = None,
        write_hook: WriteHook | None = None,
        pickle_protocol: int = pickle.HIGHEST_PROTOCOL,
    ) -> None:
        self.folders = CheckpointFolders(running_directory, finished_directory, failed_directory)
        self.running_directory = self.folders.running
        self.finished_directory = self.folders.finished
        self.failed_directory = self.folders.failed
        self.key_file = (
            Path(os.path.abspath(key_file))
            if key_file is not None
            else self.running_directory.parent / KEY_FILE_NAME
        )
        self.codec = CheckpointCodec.from_key_file(self.key_file)
        self.lock_timeout = lock_timeout
        self.on_unreadable = on_unreadable
        self.pickle_protocol = pickle_protocol
        self._write_hook = write_hook
        # Serialises this object's file changes; the RLocks keep other objects and processes out.
        self._mutex = threading.RLock()
        self._locks = HeldLocks(self.folders, self._mutex)
        #: The files the running checkpoints replaced, rewritten by their next checkpoints.
        self._spares = SpareFiles()
        self._adopter = FileAdopter(self.folders, self.codec, self._locks, self._mutex)

    @classmethod
    def create_from_basedir(cls, basedir: str | os.PathLike[str], **kwargs: Any) -> Self:
        """A persistence with ``basedir``/running, ``basedir``/finished and ``basedir``/failed."""
        base = Path(basedir)
        return cls(base / "running", base / "finished", base / "failed", **kwargs)

    def __getstate__(self) -> Any:
        raise TypeError("a PicklePersistence holds file locks and is not pickled")

    def __repr__(self) -> str:
        return (
            f"<PicklePersistence {str(self.running_directory)!r} held={sorted(self._locks.pids)}>"
        )

    @property
    def held_stems(self) -> frozenset[str]:
        """The checkpoint file stems (pids as text) of the processes this persistence holds."""
        return self._locks.stems

    @property
    def held_pids(self) -> frozenset[int]:
        """The pids of the processes this persistence loaded and still holds the lock of."""
        return self._locks.pids

    def get_running_path(self, pid: int) -> str:
        """The absolute path of the checkpoint of process ``pid`` while it runs."""
        return str(self.folders.running_path(pid))

    # Saving.

    def save_checkpoint(self, process: PersistableProcess) -> str:
        """Write the checkpoint of ``process``; return where it now is.

        A terminal state (finished, killed, excepted) retires the checkpoint at once, as
        ``save_state`` describes.

        Raises:
            CheckpointError: if the process has no pid yet, or as ``save_state``.
        """
        pid = process.pid
        if pid is None:
            raise CheckpointError(
                f"cannot checkpoint {type(process).__name__}: it has no pid yet; launch it first"
            )
        return self.save_state(pid, class_path_of(process), process.save_instance_state())

    def save_state(self, pid: int, class_path: str, state: Mapping[str, Any]) -> str:
        """Write a checkpoint of process ``pid`` into the running folder; return where it is.

        The write happens under the process's lock: re-entered if this persistence holds it,
        otherwise taken for the write (waiting up to ``lock_timeout``). If ``state[STATE_KEY]``
        is terminal the checkpoint then moves to ``finished/`` (finished, killed) or
        ``failed/`` (excepted), its lock file is removed and the lock released.

        Raises:
            CheckpointEncodeError: if the state is not picklable.
            CheckpointWriteError: if the write failed; the previous checkpoint is intact.
            LockTimeoutError: if another owner held the process's lock for ``lock_timeout``.
        """
        data = self._encode(pid, class_path, state)
        end = terminal_state(state)
        path = self.folders.running_path(pid)
        with self._mutex, self._locks.locked(pid, self.lock_timeout):
            atomic_write(path, data, hook=self._write_hook, spares=self._spares)
            if end is not None:
                return self._retire_as(pid, end)
            self._keep_spares_of_held([pid])
            return str(path)

    def save_states(
        self, items: Sequence[tuple[int, str, Mapping[str, Any]]]
    ) -> list[str | Exception]:
        """``save_state`` of several processes as one group commit; per item, where its
        checkpoint now is or the error ``save_state`` would have raised.

        Each checkpoint is written, fsynced and moved in place under its process's lock as
        alone, and the running folder is fsynced once for all of them (``atomic_write_many``):
        an item whose outcome is a path is as durable as after ``save_state``. Terminal states
        are retired afterwards, one by one.
        """
        if len(items) == 1:
            pid, class_path, state = items[0]
            return [outcome_of(partial(self.save_state, pid, class_path, state))]
        outcomes: list[str | Exception] = []
        encoded: list[tuple[int, int, Path, bytes, ProcessState | None]] = []
        for index, (pid, class_path, state) in enumerate(items):
            outcome = outcome_of(partial(self._encode, pid, class_path, state))
            outcomes.append(outcome if isinstance(outcome, Exception) else "")
            if isinstance(outcome, bytes):
                path = self.folders.running_path(pid)
                encoded.append((index, pid, path, outcome, terminal_state(state)))
        with self._mutex, ExitStack() as locks:
            writes = []
            for index, pid, path, data, end in encoded:
                try:
                    locks.enter_context(self._locks.locked(pid, self.lock_timeout))
                except Exception as exc:
                    outcomes[index] = exc
                else:
                    writes.append((index, pid, path, data, end))
            errors = atomic_write_many(
                [(path, data) for _i, _pid, path, data, _end in writes],
                hook=self._write_hook,
                spares=self._spares,
            )
            self._keep_spares_of_held([pid for _index, pid, _path, _data, _end in writes])
            ended: list[tuple[int, int, ProcessState]] = []
            for (index, pid, path, _data, end), error in zip(writes, errors, strict=True):
                if error is not None:
                    outcomes[index] = error
                elif end is None:
                    outcomes[index] = str(path)
                else:
                    ended.append((index, pid, end))
            retired = self._retire_all(
                [(pid, *self._retirement(pid, end)) for _index, pid, end in ended]
            )
            for (index, _pid, _end), retirement in zip(ended, retired, strict=True):
                outcomes[index] = retirement
        return outcomes

    def save_new_states(self, items: Sequence[tuple[int, str, Mapping[str, Any]]]) -> list[str]:
        """Write the first checkpoints of new processes, all or none; where each now is.

        Every process's lock is taken before any file is written and kept until all are
        written and the running folder is fsynced once (``atomic_write_many``): an adopter,
        which locks a checkpoint before it reads it, sees none of the batch before all of it
        is durable. If one write fails, those written are removed (still locked) and the
        folder fsynced again, then the error is raised.

        Raises:
            CheckpointEncodeError: if a state is not picklable; nothing was written.
            CheckpointWriteError: if a write failed; none of the checkpoints is left.
            LockTimeoutError: if another owner held a process's lock for ``lock_timeout``.
        """
        writes = [
            (self.folders.running_path(pid), self._encode(pid, class_path, state))
            for pid, class_path, state in items
        ]
        with self._mutex, ExitStack() as locks:
            for pid, _class_path, _state in items:
                locks.enter_context(self._locks.locked(pid, self.lock_timeout))
            errors = atomic_write_many(writes, hook=self._write_hook)
            failures = [error for error in errors if error is not None]
            if failures:
                self.folders.remove_written(
                    [path for (path, _data), error in zip(writes, errors, strict=True) if not error]
                )
                raise failures[0]
        return [str(path) for path, _data in writes]

    def _keep_spares_of_held(self, pids: Sequence[int]) -> None:
        """Remove the spares of the pids written but not held: they may be another's next."""
        for pid in pids:
            if not self._locks.holds(pid):
                self._spares.discard(self.folders.running_path(pid))

    def _encode(self, pid: int, class_path: str, state: Mapping[str, Any]) -> bytes:
        return self.codec.encode(Checkpoint(pid, class_path, state), protocol=self.pickle_protocol)

    def mark_finished(self, pid: int) -> str:
        """Move the running checkpoint of ``pid`` to ``finished/`` and release its lock.

        Raises:
            CheckpointMissingError: if there is no running checkpoint of ``pid``.
        """
        with self._mutex, self._locks.locked(pid, self.lock_timeout):
            self.folders.require_running(pid)
            return self._retire(pid, self.finished_directory)

    def mark_failed(self, pid: int, reason: str) -> str:
        """Move the running checkpoint of ``pid`` to ``failed/`` with ``reason``; release its lock.

        Raises:
            CheckpointMissingError: if there is no running checkpoint of ``pid``.
        """
        with self._mutex, self._locks.locked(pid, self.lock_timeout):
            self.folders.require_running(pid)
            return self._retire(pid, self.failed_directory, reason)

    def hold(self, pid: int) -> None:
        """Take and keep the lock of process ``pid``, launched here, as if it had been loaded.

        Held, its running checkpoint is not loaded by another worker meanwhile; it is released
        like a loaded one. A new pid's lock is held by nobody for long: at most a worker that
        is removing orphan lock files holds it for a moment, so this waits for it briefly
        instead of failing.

        Raises:
            LockedError: if this persistence holds it already.
            LockTimeoutError: if another owner still holds it after ``lock_timeout`` seconds.
        """
        self._locks.hold(pid, self.lock_timeout)

    def release(self, pid: int) -> bool:
        """Release the lock held for process ``pid``, leaving its checkpoint in ``running/``.

        Another worker may then load it. Returns False if this persistence did not hold it.
        """
        with self._mutex:
            self._spares.discard(self.folders.running_path(pid))
            return self._locks.drop(pid)

    def release_all(self) -> None:
        """Release every lock this persistence holds (a worker shutting down)."""
        with self._mutex:
            self._spares.discard_all()
            self._locks.drop_all()

    # Loading.

    def create_from_file(self, filepath: str | os.PathLike[str]) -> Any:
        """Load the checkpoint at ``filepath`` and recreate its process, keeping it locked.

        The lock is taken before the file is read and is held until the process's terminal
        checkpoint is saved or ``release(pid)`` is called. The process is recreated by
        ``load_instance_state`` of its class, which is not started.

        Raises:
            LockedError: if another owner (thread, process, or this persistence) holds it.
            CheckpointMissingError: if there is no file at ``filepath``.
            CheckpointError: if the checkpoint is refused (corrupt, forged, of another
                version) or cannot be restored (``CheckpointLoadError``); the file stays put.
        """
        return self._adopter.adopt_file(Path(os.path.abspath(filepath)))

    def load_all_processes(self) -> list[Any]:
        """Recreate the process of every checkpoint in ``running/`` that no one else holds.

        Locked checkpoints are skipped. Refused ones are moved to ``failed/`` with a
        ``<pid>.reason.txt``, logged (``persistence.checkpoint_refused``) and reported to
        ``on_unreadable``. Checkpoints that fail on a database error stay for a later attempt.
        A terminal checkpoint left in ``running/`` by a crash is retired, not returned. Each
        process returned stays locked as ``create_from_file`` describes.
        """
        return self._adopter.adopt_all(self._retire_as, self.on_unreadable)

    def has_checkpoint(self, pid: int) -> bool:
        """True if ``pid`` has a checkpoint in ``running/``."""
        return self.folders.running_path(pid).exists()

    def take_over(self, pid: int) -> Any:
        """Load and hold the process of ``pid``'s running checkpoint (``create_from_file``)."""
        return self.create_from_file(self.folders.running_path(pid))

    # Intents.

    def record_intent(self, pid: int, intent: Intent) -> None:
        """Write ``intent`` beside ``pid``'s checkpoint, for whoever next adopts it."""
        write_intent(self.running_directory, pid, intent)

    def take_intent(self, pid: int) -> Intent | None:
        """Read and remove the intent written for ``pid``, if any."""
        return take_intent(self.running_directory, pid)

    def fence(self, pid: int) -> None:
        """No fence: a file lock ends only when its holder releases it or dies."""
        return

    # Internals.

    def _retire_as(self, pid: int, end: ProcessState) -> str:
        """Retire ``pid`` by how it ended: excepted to ``failed/``, the rest to ``finished/``."""
        return self._retire(pid, *self._retirement(pid, end))

    def _retirement(self, pid: int, end: ProcessState) -> tuple[Path, str | None]:
        """The folder a checkpoint that ended so retires to, and the reason written beside it."""
        if end is ProcessState.EXCEPTED:
            reason = f"process {pid} excepted; its traceback is on its process node"
            return self.failed_directory, reason
        return self.finished_directory, None

    def _retire(self, pid: int, folder: Path, reason: str | None = None) -> str:
        """Move the running checkpoint of ``pid`` into ``folder``; the caller holds its lock."""
        return unwrap(self._retire_all([(pid, folder, reason)])[0])

    def _retire_all(
        self, retirements: Sequence[tuple[int, Path, str | None]]
    ) -> list[str | Exception]:
        """``_retire`` of several processes, each ``(pid, folder, reason)``, with one fsync per
        folder for all of them; per process, where its checkpoint now is or why it is still in
        ``running/``. The caller holds their locks."""
        moves = [
            (self.folders.running_path(pid), folder, reason) for pid, folder, reason in retirements
        ]
        for source, _folder, _reason in moves:  # first: a crash then leaves no spare behind
            self._spares.discard(source)
        outcomes: list[str | Exception] = []
        for (pid, _folder, _reason), moved in zip(
            retirements, self.folders.move_all_out(moves), strict=True
        ):
            if isinstance(moved, Exception):
                outcomes.append(moved)
                continue
            self._locks.drop(pid)
            log.info("persistence.checkpoint_retired", pid=pid, destination=str(moved))
            outcomes.append(str(moved))
        return outcomes
