"""The errors of atomic writes and moves: what failed, whether the old file is intact, what to do.

They are returned, one per file of a group write, rather than raised, so each carries the
``OSError`` it came from as its cause by hand.
"""

from __future__ import annotations

import errno
from pathlib import Path

from persistence.errors import CheckpointWriteError


def write_error(target: Path, exc: OSError, *, replaced: bool) -> CheckpointWriteError:
    """The error to give for ``exc``, caused by it (also when returned rather than raised)."""
    error = _describe(target, exc, replaced=replaced)
    error.__cause__ = exc
    return error


def _describe(target: Path, exc: OSError, *, replaced: bool) -> CheckpointWriteError:
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


def move_error(src: Path, dst: Path, exc: OSError) -> CheckpointWriteError:
    """The error of a failed move of ``src`` to ``dst``, caused by ``exc``."""
    error = CheckpointWriteError(
        f"could not move {src} to {dst}: {exc.strerror}; the file is still at {src}"
    )
    error.__cause__ = exc
    return error
