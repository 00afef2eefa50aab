"""Crash-safe file operations: atomic writes and moves, private folders.

``atomic_write`` writes a temporary file in the target's folder (0600 whatever the umask),
fsyncs it, ``os.replace``\\ s it over the target and fsyncs the folder; ``atomic_write_many``
does the same for several files with one folder fsync for all (group commit), and
``atomic_move_many`` moves several files with one fsync per folder. Whenever it
stops, by an error or by a crash, the target is either the old file or the new one, never a
mixture; on an error the temporary file is removed. A ``hook`` is called after each stage
(``WriteStage``) so that fault tests can stop a process exactly there.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import itertools
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path

from persistence.batch_threads import BatchThreads
from persistence.errors import CheckpointWriteError, PersistenceError
from persistence.spare_files import SpareFiles, open_spare
from persistence.write_errors import move_error, write_error

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
    path: str | os.PathLike[str],
    data: bytes,
    *,
    hook: WriteHook | None = None,
    spares: SpareFiles | None = None,
) -> None:
    """Replace the file at ``path`` with ``data`` atomically and durably (with ``spares``: as
    ``atomic_write_many`` says).

    Raises:
        CheckpointWriteError: on any ``OSError`` (a full disk, a file size limit, a missing
            folder); the file at ``path`` is then what it was before.
    """
    error = atomic_write_many([(path, data)], hook=hook, spares=spares)[0]
    if error is not None:
        raise error


def atomic_write_many(
    writes: Sequence[tuple[str | os.PathLike[str], bytes]],
    *,
    hook: WriteHook | None = None,
    spares: SpareFiles | None = None,
) -> list[CheckpointWriteError | None]:
    """``atomic_write`` of several files at once (group commit); per file, its error or None.

    Every file goes through the same stages as alone: its temporary file written, fsynced,
    then moved over its target; only then is each folder fsynced, once for all the files in
    it. A file whose outcome is None is durable when this returns, exactly as after
    ``atomic_write``; a crash at any point leaves each target either old or new. What the
    batch saves is one folder fsync per file but one, and the temporary files are fsynced and
    moved concurrently, each by one task that does both (both release the GIL), so that the
    file system serves them with shared journal commits instead of one after another: on a
    busy disk a rename waits for the journal as long as an fsync. One task a file rather
    than one for the fsync and one for the move halves the thread handoffs, which cost a
    checkpoint as much CPU as its encoding. A failure of one file does not stop the others; a
    failed folder fsync fails every file moved into that folder. The hook sees each file's
    stages in order: the temporary file written on the calling thread, fsynced and moved on
    the thread that settles that file, its folder synced on the calling thread.

    With ``spares`` (``persistence.spare_files``), a target's spare file is rewritten instead
    of a new temporary file made, and the file a target named is kept, linked under a new
    temporary name just before the move, as its next spare once the move is durable.
    """
    targets = [_as_path(path) for path, _data in writes]
    errors: list[CheckpointWriteError | None] = [None] * len(writes)
    temps: dict[int, tuple[int, str]] = {}
    links: dict[int, str] = {}
    try:
        for index, (target, (_path, data)) in enumerate(zip(targets, writes, strict=True)):
            try:
                temps[index] = _write_temp(target, data, spares)
            except OSError as exc:
                errors[index] = write_error(target, exc, replaced=False)
                continue
            _stage(hook, WriteStage.TEMP_WRITTEN, target)
        if spares is not None:
            links = {index: temp_name(targets[index]) for index in temps}
        settles = {
            index: partial(_settle, fd, temp, targets[index], hook, links.get(index))
            for index, (fd, temp) in temps.items()
        }
        settling, temps = temps, {}  # closed by their tasks, whatever happens to them
        for index, failure in _run_all(settles):
            errors[index] = write_error(targets[index], failure, replaced=False)
        replaced = [index for index in sorted(settling) if errors[index] is None]
        _sync_folders([_folder_of(target) for target in targets], targets, replaced, errors, hook)
        if spares is not None:
            spares.keep_durable(targets, links, errors)
    finally:
        for fd, temp in temps.values():  # an exception from a hook: leave no temporary file
            _close_and_remove(fd, temp)
    return errors


def _settle(fd: int, temp: str, target: Path, hook: WriteHook | None, link: str | None) -> None:
    """fsync the temporary file ``temp`` (open as ``fd``), close it and move it over
    ``target``; on any failure (a hook's included) close and remove it instead. ``link``: a
    new name to give the file ``target`` names before the move (a spare to be)."""
    try:
        os.fsync(fd)
        _stage(hook, WriteStage.FSYNCED, target)
    except BaseException:
        _close_and_remove(fd, temp)
        raise
    if link is not None:
        with contextlib.suppress(OSError):  # no file there yet, or no link: no spare, that is all
            os.link(target, link)
    try:
        _close_and_replace(fd, temp, target)
    except BaseException:
        _remove(temp)
        if link is not None:
            _remove(link)  # still the target's file: never to be rewritten
        raise
    _stage(hook, WriteStage.REPLACED, target)


def _write_temp(target: Path, data: bytes, spares: SpareFiles | None) -> tuple[int, str]:
    """A private temporary file beside ``target`` holding ``data``, not yet fsynced: the
    target's spare if it has one, else a new file; its open descriptor and path."""
    spare = None if spares is None else spares.take(target)
    fd = None if spare is None else open_spare(spare)
    fd, temp = _create_temp(target) if fd is None or spare is None else (fd, spare)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if temp is spare:
            os.ftruncate(fd, len(data))  # a spare held an older, maybe longer, checkpoint
    except BaseException:
        _close_and_remove(fd, temp)
        raise
    return fd, temp


#: Numbers the temporary files of this OS process (``next`` on it is atomic under the GIL).
_temp_numbers = itertools.count()
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC


def temp_name(target: Path) -> str:
    """A new temporary name beside ``target``: named by this OS process and a counter, which
    is unique without ``tempfile``'s random names (a tenth of a checkpoint's CPU). A string:
    a ``Path`` made per checkpoint cost as much as the ``open``."""
    name = f"{temp_prefix(target)}{os.getpid()}-{next(_temp_numbers)}{TEMP_SUFFIX}"
    return os.path.join(_folder_of(target), name)


def _create_temp(target: Path) -> tuple[int, str]:
    """Create a new temporary file beside ``target`` (``temp_name``); if a dead process of the
    same id left that name, ``mkstemp`` picks another."""
    temp = temp_name(target)
    try:
        return os.open(temp, _TEMP_FLAGS, PRIVATE_FILE_MODE), temp
    except FileExistsError:
        return tempfile.mkstemp(
            dir=_folder_of(target), prefix=temp_prefix(target), suffix=TEMP_SUFFIX
        )


def _as_path(path: str | os.PathLike[str]) -> Path:
    return path if isinstance(path, Path) else Path(path)


def _folder_of(path: Path) -> str:
    """The folder of ``path`` as a string (``Path.parent`` makes and hashes a new ``Path``)."""
    return os.path.dirname(path) or os.curdir


def _close_and_replace(fd: int, temp: str, target: Path) -> None:
    os.close(fd)
    os.replace(temp, target)


def _run_all(calls: Mapping[int, Callable[[], None]]) -> list[tuple[int, OSError]]:
    """Run every call, concurrently when there are several (fsyncs and renames release the
    GIL, and concurrent ones share the file system's journal commits); the failures by index.
    An error that is no ``OSError`` (a hook's) is raised once all are done.
    """
    if len(calls) <= 1:
        failed = []
        for index, call in calls.items():
            try:
                call()
            except OSError as exc:
                failed.append((index, exc))
        return failed
    failed = []
    for index, error in _SETTLING_THREADS.run_all(calls):
        if not isinstance(error, OSError):
            raise error
        failed.append((index, error))
    return failed


def _sync_folders(
    folders: Sequence[str],
    targets: Sequence[Path],
    changed: Sequence[int],
    errors: list[CheckpointWriteError | None],
    hook: WriteHook | None,
) -> None:
    """fsync once each folder (``folders[i]`` for file ``i``) in which a file ``changed``;
    then each file's last stage is done. A failure is the error of every file of that folder,
    named by its target."""
    by_folder: dict[str, list[int]] = {}
    for index in changed:
        by_folder.setdefault(folders[index], []).append(index)
    for folder, indices in by_folder.items():
        try:
            fsync_directory(folder)
        except OSError as exc:
            for index in indices:
                errors[index] = write_error(targets[index], exc, replaced=True)
            continue
        for index in indices:
            _stage(hook, WriteStage.DIRECTORY_SYNCED, targets[index])


def _close_and_remove(fd: int, temp: str) -> None:
    with contextlib.suppress(OSError):  # closed already, or a failed close: nothing to keep
        os.close(fd)
    _remove(temp)


def _remove(temp: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temp)


#: Threads that settle the files of one batch together.
FSYNC_THREADS = 8
_SETTLING_THREADS = BatchThreads(FSYNC_THREADS, "checkpoint-fsync")


def atomic_move(source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> None:
    """Move a file, replacing ``destination``, and make the move durable in both folders.

    Across file systems the file is copied with ``atomic_write`` and the source then removed.

    Raises:
        CheckpointWriteError: if the move fails; the source is then still in place.
    """
    error = atomic_move_many([(source, destination)])[0]
    if error is not None:
        raise error


def atomic_move_many(
    moves: Sequence[tuple[str | os.PathLike[str], str | os.PathLike[str]]],
) -> list[CheckpointWriteError | None]:
    """``atomic_move`` of several files at once (group commit); per move, its error or None.

    Every file is renamed first, then each destination folder and each source folder is
    fsynced once for all the files moved into or out of it, instead of twice per file: the
    processes that end together in one batch of checkpoints retire with two folder fsyncs,
    not two each. A move whose outcome is None is durable when this returns, exactly as
    after ``atomic_move``; a failed folder fsync fails every move through that folder (the
    file is then moved, but the move may not survive a power failure).
    """
    pairs = [(Path(source), Path(destination)) for source, destination in moves]
    errors: list[CheckpointWriteError | None] = [None] * len(pairs)
    renamed: list[int] = []
    for index, (src, dst) in enumerate(pairs):
        try:
            os.replace(src, dst)
        except OSError as exc:
            errors[index] = (
                _copy_across(src, dst) if exc.errno == errno.EXDEV else move_error(src, dst, exc)
            )
            continue
        renamed.append(index)
    destinations = [dst for _src, dst in pairs]
    # The new names first, as atomic_move does: then the names the files left.
    _sync_folders([_folder_of(dst) for dst in destinations], destinations, renamed, errors, None)
    still_fine = [index for index in renamed if errors[index] is None]
    _sync_folders([_folder_of(src) for src, _dst in pairs], destinations, still_fine, errors, None)
    return errors


def _copy_across(src: Path, dst: Path) -> CheckpointWriteError | None:
    """Move across file systems: copy with ``atomic_write``, remove the source, sync its
    folder; the error, if any."""
    try:
        data = src.read_bytes()
    except OSError as exc:
        return move_error(src, dst, exc)
    try:
        atomic_write(dst, data)
    except CheckpointWriteError as exc:
        return exc
    src.unlink(missing_ok=True)
    try:
        fsync_directory(src.parent)
    except OSError as exc:
        return write_error(dst, exc, replaced=True)
    return None


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
