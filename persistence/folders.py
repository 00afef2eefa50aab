"""``CheckpointFolders``: where checkpoints, their locks and the reasons of failures live.

``running/<pid>.pickle`` is the checkpoint of a process that has not terminated, guarded by
``running/<pid>.pickle.lock``. The lock sits beside the checkpoint rather than on it: a write
replaces the checkpoint file by a new one, and an ``flock`` on the old file would no longer guard
the name. Retired checkpoints move to ``finished/`` or ``failed/``, the latter beside a
``<pid>.reason.txt``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from persistence.atomic import (
    TEMP_SUFFIX,
    atomic_move_many,
    atomic_write_many,
    fsync_directory,
    make_private_directory,
    temp_prefix,
)
from persistence.errors import CheckpointMissingError, CheckpointWriteError, LockedError
from persistence.lock import RLock
from persistence.store import unwrap
from provenance.log import get_logger

log = get_logger(__name__)

CHECKPOINT_SUFFIX = ".pickle"
LOCK_SUFFIX = ".lock"
REASON_SUFFIX = ".reason.txt"


def lock_path_of(checkpoint: str | os.PathLike[str]) -> Path:
    """The lock file that guards the checkpoint at ``checkpoint``."""
    path = Path(checkpoint)
    return path.with_name(path.name + LOCK_SUFFIX)


def _by_pid(stem_and_name: tuple[str, str]) -> tuple[bool, int, str]:
    """Pids in numeric order first (a shorter number is a smaller one), other names after."""
    stem, name = stem_and_name
    return (not stem.isdigit(), len(name), name)


def stem_of(checkpoint: Path) -> str:
    """The name of a checkpoint without its suffix: the pid, for checkpoints we wrote."""
    return checkpoint.name.removesuffix(CHECKPOINT_SUFFIX)


class CheckpointFolders:
    """The running, finished and failed folders, created 0700 whatever the umask.

    Raises:
        PersistenceError: if a folder cannot be created or belongs to another user.
    """

    def __init__(
        self,
        running: str | os.PathLike[str],
        finished: str | os.PathLike[str],
        failed: str | os.PathLike[str],
    ) -> None:
        self.running = make_private_directory(running)
        self.finished = make_private_directory(finished)
        self.failed = make_private_directory(failed)

    def running_path(self, pid: int) -> Path:
        """The checkpoint of process ``pid`` while it runs."""
        if not isinstance(pid, int) or isinstance(pid, bool):
            raise TypeError(f"a pid is an int, got {pid!r}")
        return self.running / f"{pid}{CHECKPOINT_SUFFIX}"

    def require_running(self, pid: int) -> Path:
        """The running checkpoint of ``pid``.

        Raises:
            CheckpointMissingError: if there is none.
        """
        path = self.running_path(pid)
        if not path.is_file():
            raise CheckpointMissingError(
                f"there is no running checkpoint of process {pid} at {path}; "
                "it terminated already or was never saved"
            )
        return path

    def running_checkpoints(self) -> list[Path]:
        """The checkpoints in ``running/``, by pid (oldest process first).

        One ``scandir`` (whose entries know their type without a ``stat``): a worker lists the
        folder at every wake, with every running checkpoint in it.
        """
        with os.scandir(self.running) as entries:
            names = [
                entry.name
                for entry in entries
                if entry.name.endswith(CHECKPOINT_SUFFIX) and entry.is_file()
            ]
        stems = [name.removesuffix(CHECKPOINT_SUFFIX) for name in names]
        order = sorted(zip(stems, names, strict=True), key=_by_pid)
        return [self.running / name for _stem, name in order]

    def move_out(self, source: Path, folder: Path, reason: str | None = None) -> Path:
        """Move ``source`` into ``folder`` (with ``reason`` beside it); the caller holds its lock.

        Raises:
            CheckpointWriteError: if the move fails; the checkpoint is then still in place.
        """
        return unwrap(self.move_all_out([(source, folder, reason)])[0])

    def move_all_out(
        self, moves: Sequence[tuple[Path, Path, str | None]]
    ) -> list[Path | CheckpointWriteError]:
        """``move_out`` of several checkpoints, each ``(source, folder, reason)``, with one
        fsync per folder for all of them (the processes that end in one batch retire
        together); per move, where it went or why it is still in place. The caller holds
        every one's lock."""
        destinations = [folder / source.name for source, folder, _reason in moves]
        outcomes: list[Path | CheckpointWriteError] = list(destinations)
        reasons = [
            (index, folder / f"{stem_of(source)}{REASON_SUFFIX}", reason)
            for index, (source, folder, reason) in enumerate(moves)
            if reason is not None
        ]
        # The reasons first: no checkpoint ever lies in failed/ without one.
        written = atomic_write_many(
            [(path, f"{reason}\n".encode()) for _i, path, reason in reasons]
        )
        for (index, _path, _reason), error in zip(reasons, written, strict=True):
            if error is not None:
                outcomes[index] = error
        moving = [index for index, outcome in enumerate(outcomes) if isinstance(outcome, Path)]
        moved = atomic_move_many([(moves[index][0], destinations[index]) for index in moving])
        for index, error in zip(moving, moved, strict=True):
            if error is not None:
                outcomes[index] = error
            else:
                # Safe while locked: a waiter that then gets the old lock file sees it gone
                # and retries.
                lock_path_of(moves[index][0]).unlink(missing_ok=True)
        return outcomes

    def remove_written(self, paths: Sequence[Path]) -> None:
        """Remove the running checkpoints at ``paths`` (their locks held), then fsync the folder:
        a batch of first checkpoints that failed in part. One left behind by an error never
        runs: its node is marked EXCEPTED by the submitter, and adoption retires a checkpoint
        whose node ended."""
        for path in paths:
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                log.warning("persistence.unwrite_failed", path=str(path), error=str(exc))
        if paths:
            try:
                fsync_directory(self.running)
            except OSError as exc:
                log.warning("persistence.unwrite_failed", path=str(self.running), error=str(exc))

    def temp_files(self) -> list[str]:
        """The names of the temporary files in ``running/`` now (usually none)."""
        return [name for name in os.listdir(self.running) if name.endswith(TEMP_SUFFIX)]

    def remove_stale_temps(self, checkpoint: Path, temps: Sequence[str] | None = None) -> None:
        """Remove the temporary files of dead writers of ``checkpoint``; the caller holds its lock.

        Every write of a checkpoint happens under its lock, so while we hold it a temporary
        file can only be a crashed writer's. ``temps``: the names ``temp_files`` listed
        earlier, so that adopting many checkpoints lists the folder once, not once each: what
        is still there is a dead writer's all the same, and one made since is left for the
        next adoption.
        """
        if checkpoint.parent != self.running:
            return
        prefix = temp_prefix(checkpoint)
        for name in self.temp_files() if temps is None else temps:
            if name.startswith(prefix):
                (self.running / name).unlink(missing_ok=True)

    def remove_orphan_locks(self) -> None:
        """Remove lock files whose checkpoint is gone (a crash between retiring and unlinking)."""
        for lock_file in self.running.glob(f"*{CHECKPOINT_SUFFIX}{LOCK_SUFFIX}"):
            checkpoint = lock_file.with_name(lock_file.name.removesuffix(LOCK_SUFFIX))
            if checkpoint.exists():
                continue
            lock = RLock(lock_file, timeout=0, fail_when_locked=True)
            try:
                lock.acquire(owner=self)
            except LockedError:
                continue  # someone holds it: they are about to write that checkpoint
            try:
                if not checkpoint.exists():
                    lock_file.unlink(missing_ok=True)
            finally:
                lock.release(owner=self)
