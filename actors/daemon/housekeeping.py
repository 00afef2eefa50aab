"""What the supervisor looks after besides its workers: its home and its lock still being
there, and the size of ``running/finished``.

A daemon whose home was deleted (``rm -rf ~/.workactors`` while it runs) has nothing left to
serve: its checkpoints, logs and sockets are gone, and a new home at the same path would belong
to a new daemon. ``HomeWatch`` notices that (the home missing, or replaced by another folder of
the same name) and the supervisor then stops. It also notices its lock file being removed (a
``/tmp`` cleaner), which would let a second daemon start beside it.

``prune_finished`` keeps ``running/finished`` from growing without end: checkpoints of ended
processes are only needed to look at, so the oldest beyond an age or a count are removed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from actors.daemon.paths import DaemonPaths
from persistence.folders import CHECKPOINT_SUFFIX, REASON_SUFFIX

#: Environment variables that set how much of ``running/finished`` is kept.
KEEP_DAYS_ENV = "WORKACTORS_FINISHED_KEEP_DAYS"
KEEP_COUNT_ENV = "WORKACTORS_FINISHED_KEEP_COUNT"
#: Defaults: a month of finished checkpoints, and at most this many.
KEEP_DAYS = 30.0
KEEP_COUNT = 10_000
#: Seconds between two prunings by a running supervisor.
PRUNE_INTERVAL = 3_600.0


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_dev, found.st_ino


class HomeWatch:
    """Remembers the home folder and the lock file as they were at start.

    Args:
        paths: the daemon's paths; the home and the lock must exist.
    """

    def __init__(self, paths: DaemonPaths) -> None:
        self._paths = paths
        self._home = _identity(paths.home)
        self._lock = _identity(paths.supervisor_lock)

    def problem(self) -> str | None:
        """Why the daemon must stop, or None while its home and lock are as they were."""
        home = _identity(self._paths.home)
        if home is None:
            return f"its home {self._paths.home} was deleted"
        if home != self._home:
            return f"its home {self._paths.home} was replaced by another folder"
        if _identity(self._paths.supervisor_lock) != self._lock:
            return (
                f"its lock {self._paths.supervisor_lock} was removed, so another daemon could "
                "start on the same home"
            )
        return None


@dataclass(frozen=True, slots=True)
class Retention:
    """How much of ``running/finished`` to keep: at most ``days`` old and ``count`` files
    (None: no limit of that kind)."""

    days: float | None = KEEP_DAYS
    count: int | None = KEEP_COUNT

    @classmethod
    def from_environment(cls) -> Retention:
        """The defaults, as ``$WORKACTORS_FINISHED_KEEP_DAYS``/``_COUNT`` change them.

        Raises:
            ValueError: if a variable is not a non-negative number.
        """
        return cls(
            days=_number(KEEP_DAYS_ENV, KEEP_DAYS, float),
            count=int(_number(KEEP_COUNT_ENV, KEEP_COUNT, int)),
        )


def _number(name: str, default: float, kind: type[float] | type[int]) -> float:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"${name} must be a number, not {text!r}") from None
    if value < 0:
        raise ValueError(f"${name} must be 0 or more, not {text}")
    return value


def prune_finished(folder: Path, retention: Retention, now: float | None = None) -> int:
    """Remove the checkpoints (and reasons) in ``folder`` beyond ``retention``; how many.

    The newest are kept: a checkpoint goes if it is older than ``retention.days`` or if more
    than ``retention.count`` newer ones are kept.
    """
    if not folder.is_dir():
        return 0
    moment = time.time() if now is None else now
    dated: list[tuple[float, Path]] = []
    for path in folder.glob(f"*{CHECKPOINT_SUFFIX}"):
        try:
            dated.append((path.stat().st_mtime, path))
        except FileNotFoundError:
            continue
    dated.sort(reverse=True)
    removed = 0
    for position, (mtime, path) in enumerate(dated):
        too_old = retention.days is not None and moment - mtime > retention.days * 86_400
        too_many = retention.count is not None and position >= retention.count
        if too_old or too_many:
            path.unlink(missing_ok=True)
            stem = path.name.removesuffix(CHECKPOINT_SUFFIX)
            (folder / f"{stem}{REASON_SUFFIX}").unlink(missing_ok=True)
            removed += 1
    return removed
