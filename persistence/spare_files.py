"""``SpareFiles``: the file a checkpoint replaced, kept to hold the next checkpoint of its process.

An atomic write makes a new file and moves it over the old one, which frees the old file. On
ext4 making a file (an inode) and freeing one cost three times the CPU of the rest of the write
and double its wall time, and a daemon worker writes a checkpoint of each process after every
step. So ``atomic_write_many`` can keep the replaced file instead, under a new temporary name (a
hard link made just before the move), and write the next checkpoint of the same target into it:
no file is made or freed, one is relinked.

It stays crash-safe because a spare always has a temporary name (``atomic.temp_name``): a crash
leaves it as a stale temporary file, which adoption removes under the checkpoint's lock. And a
spare is written into only after the move that took it away from its target was made durable
(its folder fsynced), so a checkpoint name never points to a file being rewritten. A spare is
removed when its process retires or is released.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path


class SpareFiles:
    """The spare file of each target written (by its path); thread-safe."""

    def __init__(self) -> None:
        self._spares: dict[str, str] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._spares)

    def take(self, target: Path) -> str | None:
        """The spare of ``target``, to write its next version into; None if there is none."""
        with self._lock:
            return self._spares.pop(str(target), None)

    def keep(self, target: Path, spare: str) -> None:
        """Keep ``spare``, the file ``target`` named until its last durable replacement."""
        with self._lock:
            previous = self._spares.get(str(target))
            self._spares[str(target)] = spare
        if previous is not None:
            remove_file(previous)

    def keep_durable(
        self, targets: Sequence[Path], links: Mapping[int, str], errors: Sequence[object]
    ) -> None:
        """After a group write: keep ``links[i]``, the file ``targets[i]`` named before, as
        its spare if its replacement is durable (``errors[i]`` is None); else remove it: the
        target may still name that file after a crash."""
        for index, link in links.items():
            if errors[index] is None:
                self.keep(targets[index], link)
            else:
                remove_file(link)

    def discard(self, target: Path) -> None:
        """Remove the spare of ``target``, if any (its process retires or leaves us)."""
        spare = self.take(target)
        if spare is not None:
            remove_file(spare)

    def discard_all(self) -> None:
        """Remove every spare."""
        with self._lock:
            spares, self._spares = list(self._spares.values()), {}
        for spare in spares:
            remove_file(spare)


def open_spare(spare: str) -> int | None:
    """``spare`` open for writing from its start; None if it is gone (adoption removed it)."""
    try:
        return os.open(spare, os.O_WRONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None


def remove_file(path: str) -> None:
    """Remove ``path``; one already gone, or that cannot be removed, is left to adoption's
    removal of stale temporary files."""
    with contextlib.suppress(OSError):
        os.unlink(path)
