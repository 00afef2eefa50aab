"""Helpers of the persistence tests."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

from persistence.atomic import WriteStage


def mode_of(path: Path | str) -> int:
    """The permission bits of ``path``."""
    return os.stat(path).st_mode & 0o777


class FailOneFsync:
    """A write hook that fails the first file of a group write to be fsynced with a full
    disk (the files settle on several threads); ``failed`` names it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.failed: list[Path] = []

    def __call__(self, stage: WriteStage, target: Path) -> None:
        with self._lock:
            if stage is WriteStage.FSYNCED and not self.failed:
                self.failed.append(target)
                raise OSError(errno.ENOSPC, "No space left on device")
