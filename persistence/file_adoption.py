"""Adopting the checkpoints of a ``running/`` folder: lock, read, verify, restore, or refuse.

A checkpoint's lock is taken, without waiting, before its file is read: a locked checkpoint is
another worker's (or thread's) and is skipped, so two never restore the same process. What is
read but cannot be restored is sorted by whether trying again could help:

- refused (corrupt, forged, of another version, naming a refused class, renamed): moved to
  ``failed/`` with the reason beside it, logged and reported; it would fail the same way again;
- deferred (the provenance database is busy or unreachable, a lock race, a failed retirement):
  left in ``running/`` for a later attempt;
- terminal (a crash between its last save and its retirement): retired, not restored.

A restored process stays locked (``HeldLocks``) until its persistence retires or releases it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from persistence.codec import Checkpoint, CheckpointCodec
from persistence.errors import (
    CheckpointCorruptError,
    CheckpointError,
    CheckpointMissingError,
    CheckpointWriteError,
    LockedError,
)
from persistence.folders import CheckpointFolders, lock_path_of, stem_of
from persistence.held_locks import HeldLocks
from persistence.lock import RLock
from persistence.restore import restore_process, terminal_state
from persistence.store import UnreadableHook
from provenance.errors import ProvenanceError
from provenance.log import get_logger
from provenance.preloading import preloaded, read_rows, uuids_in
from provenance.process_state import ProcessState

log = get_logger(__name__)

#: Retires the running checkpoint of a pid by how it ended; its lock is held by the caller.
Retire = Callable[[int, ProcessState], str]


class FileAdopter:
    """Restores the processes of the checkpoints in ``folders`` and holds them in ``locks``.

    Args:
        folders: where the checkpoints are, and where refused ones go.
        codec: verifies and decodes them.
        locks: the locks of the processes held; a restored one's lock is kept there.
        mutex: the persistence's mutex, held for every move of a file.

    It keeps no reference to its persistence (whose ``retire`` it is given per call), so
    that a persistence no one holds any more is freed, and its locks with it, at once.
    """

    def __init__(
        self,
        folders: CheckpointFolders,
        codec: CheckpointCodec,
        locks: HeldLocks,
        mutex: threading.RLock,
    ) -> None:
        self._folders = folders
        self._codec = codec
        self._locks = locks
        self._mutex = mutex

    def adopt_file(self, path: Path) -> Any:
        """The process of the checkpoint at ``path``, restored and kept locked.

        Raises:
            LockedError: if another owner (thread, process, or this persistence) holds it.
            CheckpointMissingError: if there is no file at ``path``.
            CheckpointError: if the checkpoint is refused or cannot be restored; it stays put.
        """
        lock = self._locks.lock_checkpoint(path)
        try:
            return self._restore_and_hold(self._read_locked(path), path, lock)
        except BaseException:
            self._locks.unlock(lock)
            raise

    def adopt_all(self, retire: Retire, on_unreadable: UnreadableHook | None = None) -> list[Any]:
        """The processes of every checkpoint in ``running/`` that no one else holds, each kept
        locked; terminal ones are given to ``retire`` (their lock held), refused ones are
        reported to ``on_unreadable``.

        Every checkpoint is locked and read first, then the nodes they all name are read in
        one query (``read_rows``) before they are restored one by one (``preloaded``).
        """
        self._folders.remove_orphan_locks()
        read: list[tuple[Path, RLock, Checkpoint]] = []
        loaded: list[tuple[int, Any]] = []
        try:
            held = self._locks.stems
            temps = self._folders.temp_files()
            for path in self._folders.running_checkpoints():
                if stem_of(path) in held:  # ours already: no need to try its lock
                    continue
                found = self._read_or_refuse(path, retire, on_unreadable, temps)
                if found is not None:
                    read.append(found)
            with preloaded(self._node_rows(checkpoint.state for _path, _lock, checkpoint in read)):
                while read:
                    path, lock, checkpoint = read.pop(0)
                    restored = self._restore_or_refuse(path, lock, checkpoint, on_unreadable)
                    if restored is not None:
                        loaded.append((checkpoint.pid, restored))
        except BaseException:
            for _path, lock, _checkpoint in read:
                self._locks.unlock(lock)
            for pid, _process in loaded:
                self._locks.drop(pid)
            raise
        return [process for _pid, process in loaded]

    @staticmethod
    def _node_rows(states: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """The rows of the nodes ``states`` name (``read_rows``); none if that read fails:
        each restore then reads its own nodes, and meets the same error where it is sorted
        out."""
        uuids = set().union(*(uuids_in(state) for state in states))
        try:
            return read_rows(uuids)
        except Exception as exc:
            log.warning("persistence.preload_failed", error=repr(exc)[:200])
            return {}

    def _read_locked(self, path: Path, temps: Sequence[str] | None = None) -> Checkpoint:
        self._folders.remove_stale_temps(path, temps)
        try:
            checkpoint = self._codec.read(path)
        except FileNotFoundError as exc:
            lock_path_of(path).unlink(missing_ok=True)
            raise CheckpointMissingError(
                f"there is no checkpoint at {path}; it terminated, moved or was never saved"
            ) from exc
        stem = stem_of(path)
        if stem.isdigit() and int(stem) != checkpoint.pid:
            raise CheckpointCorruptError(
                f"checkpoint {path} is named for process {stem} but holds process "
                f"{checkpoint.pid}; it was renamed or copied: discard it"
            )
        return checkpoint

    def _restore_and_hold(self, checkpoint: Checkpoint, path: Path, lock: RLock) -> Any:
        process = restore_process(
            checkpoint.pid, checkpoint.class_path, checkpoint.state, str(path)
        )
        self._locks.keep(checkpoint.pid, lock)
        return process

    def _retire_if_terminal(self, checkpoint: Checkpoint, path: Path, retire: Retire) -> bool:
        """Retire a terminal checkpoint a crash left in ``running/``; the caller holds its lock."""
        end = terminal_state(checkpoint.state)
        if end is None or path != self._folders.running_path(checkpoint.pid):
            return False
        with self._mutex:
            retire(checkpoint.pid, end)
        return True

    def _read_or_refuse(
        self,
        path: Path,
        retire: Retire,
        on_unreadable: UnreadableHook | None,
        temps: Sequence[str],
    ) -> tuple[Path, RLock, Checkpoint] | None:
        """``path`` locked and read, to be restored; None if it is locked, gone, refused,
        retired or deferred (and then not kept locked). ``temps``: the folder's temporary
        files (``CheckpointFolders.temp_files``)."""
        try:
            lock = self._locks.lock_checkpoint(path)
        except LockedError:
            log.debug("persistence.checkpoint_locked", path=str(path))
            return None
        try:
            checkpoint = self._read_locked(path, temps)
            if not self._retire_if_terminal(checkpoint, path, retire):
                return path, lock, checkpoint
        except BaseException as exc:
            self._sort_out(exc, path, lock, on_unreadable)
            return None
        self._locks.unlock(lock)
        return None

    def _restore_or_refuse(
        self, path: Path, lock: RLock, checkpoint: Checkpoint, on_unreadable: UnreadableHook | None
    ) -> Any:
        """The process of the locked ``checkpoint``, restored and held; None if it is refused
        or deferred (and then not kept locked)."""
        try:
            return self._restore_and_hold(checkpoint, path, lock)
        except BaseException as exc:
            self._sort_out(exc, path, lock, on_unreadable)
            return None

    def _sort_out(
        self, exc: BaseException, path: Path, lock: RLock, on_unreadable: UnreadableHook | None
    ) -> None:
        """Unlock ``path`` after what reading or restoring it raised: refused if it would fail
        again, left for later if it might not, raised again if it is no checkpoint's fault."""
        match exc:
            case CheckpointMissingError():
                pass
            case CheckpointWriteError():  # retiring a terminal checkpoint failed: try later
                log.error("persistence.checkpoint_deferred", path=str(path), error=str(exc))
            case CheckpointError():
                self._refuse(path, str(exc), on_unreadable)
            case ProvenanceError() | LockedError():
                log.warning("persistence.checkpoint_deferred", path=str(path), error=str(exc))
            case _:
                self._locks.unlock(lock)
                raise exc
        self._locks.unlock(lock)

    def _refuse(self, path: Path, reason: str, on_unreadable: UnreadableHook | None) -> None:
        """Move a refused checkpoint to ``failed/``; the caller holds its lock."""
        try:
            with self._mutex:
                destination = self._folders.move_out(path, self._folders.failed, reason)
        except CheckpointWriteError as exc:
            log.error("persistence.refuse_failed", path=str(path), reason=reason, error=str(exc))
            return
        stem = stem_of(path)
        pid = int(stem) if stem.isdigit() else None
        log.warning(
            "persistence.checkpoint_refused",
            path=str(path),
            moved_to=str(destination),
            pid=pid,
            reason=reason,
        )
        if pid is not None and on_unreadable is not None:
            try:
                on_unreadable(pid, reason)
            except Exception as exc:
                log.error("persistence.on_unreadable_failed", pid=pid, error=repr(exc))
