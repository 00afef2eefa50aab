"""Crash-safe file operations: atomic writes and moves, private folders.

``atomic_write`` writes a temporary file in the target's folder (0600 whatever the umask),
flushes and fsyncs it, ``os.replace``\\ s it over the target and fsyncs the folder. Whenever it
stops, by an error or by a crash, the target is either the old file or the new one, never a
mixture; on an error the temporary file is removed. A ``hook`` is called after each stage
(``WriteStage``) so that fault tests can stop a process exactly there.
"""

from __future__ import annotations

import enum
import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from persistence.errors import CheckpointWriteError, PersistenceError

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIRECTORY_MODE = 0o700
#: Temporary files start with a dot and end so, which no checkpoint glob matches.
TEMP_SUFFIX = ".tmp"


class WriteStage(enum.StrEnum):
    """The stages of ``atomic_write``; the hook is called after each one."""

    TEMP_WRITTEN = "temp-written"
    FSYNCED = "fsynced"
    REPLACED = "replaced"
    DIRECTORY_SYNCED = "directory-synced"


#: Called with the stage just completed and the target path, on the writing thread.
WriteHook = Callable[[WriteStage, Path], None]


def temp_prefix(target: Path) -> str:
    """The prefix of the temporary files ``atomic_write`` makes for ``target``."""
    return f".{target.name}."


def atomic_write(
    path: str | os.PathLike[str], data: bytes, *, hook: WriteHook | None = None
) -> None:
    """Replace the file at ``path`` with ``data`` atomically and durably.

    Raises:
        CheckpointWriteError: on any ``OSError`` (a full disk, a file size limit, a missing
            folder); the file at ``path`` is then what it was before.
    """
    target = Path(path)
    try:
        fd, temp_name = tempfile.mkstemp(
            dir=target.parent, prefix=temp_prefix(target), suffix=TEMP_SUFFIX
        )
    except OSError as exc:
        raise _write_error(target, exc, replaced=False) from exc
    temp = Path(temp_name)
    replaced = False
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), PRIVATE_FILE_MODE)
            handle.write(data)
            handle.flush()
            _stage(hook, WriteStage.TEMP_WRITTEN, target)
            os.fsync(handle.fileno())
        _stage(hook, WriteStage.FSYNCED, target)
        os.replace(temp, target)
        replaced = True
        _stage(hook, WriteStage.REPLACED, target)
        fsync_directory(target.parent)
        _stage(hook, WriteStage.DIRECTORY_SYNCED, target)
    except OSError as exc:
        raise _write_error(target, exc, replaced=replaced) from exc
    finally:
        if not replaced:
            temp.unlink(missing_ok=True)


def atomic_move(source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> None:
    """Move a file, replacing ``destination``, and make the move durable in both folders.

    Across file systems the file is copied with ``atomic_write`` and the source then removed.

    Raises:
        CheckpointWriteError: if the move fails; the source is then still in place.
    """
    src, dst = Path(source), Path(destination)
    try:
        os.replace(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise CheckpointWriteError(
                f"could not move {src} to {dst}: {exc.strerror}; the file is still at {src}"
            ) from exc
        try:
            data = src.read_bytes()
        except OSError as read_exc:
            raise CheckpointWriteError(
                f"could not move {src} to {dst}: {read_exc.strerror}; the file is still at {src}"
            ) from read_exc
        atomic_write(dst, data)
        src.unlink(missing_ok=True)
    else:
        try:
            fsync_directory(dst.parent)
        except OSError as exc:
            raise _write_error(dst, exc, replaced=True) from exc
    try:
        fsync_directory(src.parent)
    except OSError as exc:
        raise _write_error(dst, exc, replaced=True) from exc


def fsync_directory(folder: str | os.PathLike[str]) -> None:
    """Make the names in ``folder`` (a new, replaced or removed file) durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_private_directory(folder: str | os.PathLike[str]) -> Path:
    """Create ``folder`` and its missing parents with mode 0700, whatever the umask.

    Folders that exist are left as they are, but must belong to the current user.

    Raises:
        PersistenceError: if the folder cannot be created or belongs to another user.
    """
    path = Path(os.path.abspath(folder))
    missing = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    try:
        for directory in reversed(missing):
            try:
                directory.mkdir(mode=PRIVATE_DIRECTORY_MODE)
            except FileExistsError:
                continue
            # mkdir's mode passes through the umask; chmod does not.
            directory.chmod(PRIVATE_DIRECTORY_MODE)
        owner = path.stat().st_uid
    except OSError as exc:
        raise PersistenceError(
            f"cannot create the folder {path}: {exc.strerror}; choose a writable location"
        ) from exc
    if not path.is_dir():
        raise PersistenceError(f"{path} is not a folder; choose another location")
    if owner != os.getuid():
        raise PersistenceError(
            f"the folder {path} belongs to user id {owner}, not to you ({os.getuid()}); "
            "checkpoints must live in a folder of your own: choose another location"
        )
    return path


def _stage(hook: WriteHook | None, stage: WriteStage, target: Path) -> None:
    if hook is not None:
        hook(stage, target)


def _write_error(target: Path, exc: OSError, *, replaced: bool) -> CheckpointWriteError:
    reason = exc.strerror or str(exc)
    if exc.errno is not None and exc.errno in errno.errorcode:
        reason = f"{reason} [{errno.errorcode[exc.errno]}]"
    if replaced:
        return CheckpointWriteError(
            f"wrote {target} but could not sync its folder: {reason}; the new file is in place "
            "but may not survive a power failure"
        )
    return CheckpointWriteError(
        f"could not write {target}: {reason}; the previous file there is intact. "
        "Free disk space or raise the file size limit, then save again"
    )
