"""Where the daemon keeps its files: ``<home>/daemon/``, and a lock folder outside the home.

``<home>/daemon/`` holds one status file and one log per worker, the supervisor's log, and
normally the workers' wake sockets. A Unix socket path must fit in 108 bytes (``sun_path``), so
when the home is deep the sockets go to a private folder under ``/tmp`` named after a hash of
the home instead; submitters and workers compute the same place from the home.

The supervisor's lock and state file live outside the home, in ``/tmp/workactors-<uid>/locks``
(private to the user), named after a hash of the home's absolute path. Deleting the home then
cannot orphan the lock: a second daemon on the same path is still refused while the first runs,
and ``daemon status``/``stop`` still find it. The place depends on nothing but the user and the
path, not on the environment, so that every shell of the user computes the same one.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

#: ``sun_path`` is 108 bytes on Linux, one of them the terminating NUL.
MAX_SOCKET_PATH = 107
#: The longest socket name we make: ``worker-<index>.<os pid>.sock`` with large numbers.
LONGEST_SOCKET_NAME = len("worker-9999.4194304.sock")
SOCKET_FALLBACK_ROOT = Path("/tmp")
#: Environment variable that moves the lock folder (tests, or a system whose /tmp is cleaned).
LOCK_ROOT_ENV = "WORKACTORS_LOCK_DIR"


def user_folder() -> Path:
    """``/tmp/workactors-<uid>``: the user's private folder for what must outlive a home."""
    return SOCKET_FALLBACK_ROOT / f"workactors-{os.getuid()}"


def lock_folder() -> Path:
    """Where supervisor locks and state files live (``$WORKACTORS_LOCK_DIR`` moves it)."""
    moved = os.environ.get(LOCK_ROOT_ENV)
    return Path(moved) if moved else user_folder() / "locks"


def home_digest(home: Path) -> str:
    """A short hash of an absolute home path, to name its files outside the home."""
    return hashlib.sha256(os.fsencode(home)).hexdigest()[:16]


def resolved_home(home: str | os.PathLike[str]) -> Path:
    """The absolute, symlink-free form of ``home``, so that every program names it alike."""
    return Path(home).expanduser().resolve()


@dataclass(frozen=True, slots=True)
class DaemonPaths:
    """The daemon's files for one home."""

    home: Path

    @classmethod
    def of(cls, home: str | os.PathLike[str]) -> DaemonPaths:
        """The paths of the daemon of ``home``."""
        return cls(resolved_home(home))

    @property
    def folder(self) -> Path:
        """``<home>/daemon``."""
        return self.home / "daemon"

    @property
    def running(self) -> Path:
        """The checkpoints the workers adopt (``<home>/running``)."""
        return self.home / "running"

    @property
    def lock_folder(self) -> Path:
        """The folder of the supervisor's lock and state file (outside the home)."""
        return lock_folder()

    @property
    def supervisor_lock(self) -> Path:
        """Held by the supervisor for as long as it lives: one daemon per home."""
        return self.lock_folder / f"{home_digest(self.home)}.lock"

    @property
    def state_file(self) -> Path:
        """What the supervisor says about itself (JSON), beside its lock."""
        return self.lock_folder / f"{home_digest(self.home)}.json"

    @property
    def stop_note(self) -> Path:
        """Why the last daemon of this home stopped, beside its lock (the home may be gone)."""
        return self.lock_folder / f"{home_digest(self.home)}.stopped"

    @property
    def target_file(self) -> Path:
        """How many workers ``daemon incr``/``decr`` asked for, beside the lock."""
        return self.lock_folder / f"{home_digest(self.home)}.target"

    @property
    def supervisor_log(self) -> Path:
        """The supervisor's log."""
        return self.folder / "supervisor.log"

    def worker_log(self, index: int) -> Path:
        """The log of worker ``index`` (its structlog events, and its stderr)."""
        return self.folder / f"worker-{index}.log"

    def worker_status(self, index: int) -> Path:
        """The status file worker ``index`` rewrites when the processes it holds change."""
        return self.folder / f"worker-{index}.json"

    def worker_statuses(self) -> list[Path]:
        """Every worker status file there is, by index."""
        found = self.folder.glob("worker-*.json") if self.folder.is_dir() else []
        return sorted(found, key=lambda path: _index_of(path.name))

    def worker_logs(self) -> list[Path]:
        """Every worker log there is, by index."""
        found = self.folder.glob("worker-*.log") if self.folder.is_dir() else []
        return sorted(found, key=lambda path: _index_of(path.name))

    @property
    def sockets(self) -> Path:
        """The folder of the wake sockets (see the module docstring)."""
        if len(os.fsencode(self.folder)) + 1 + LONGEST_SOCKET_NAME <= MAX_SOCKET_PATH:
            return self.folder
        return user_folder() / home_digest(self.home)

    def socket_of(self, index: int, os_pid: int) -> Path:
        """The wake socket of worker ``index`` running as OS process ``os_pid``.

        The OS pid is in the name so that a stale socket of a dead worker can be told from the
        socket its restarted successor binds, and removed without a race.
        """
        return self.sockets / f"worker-{index}.{os_pid}.sock"


def _index_of(name: str) -> int:
    index = name.removeprefix("worker-").split(".", 1)[0]
    return int(index) if index.isdigit() else -1


def socket_owner(path: Path) -> tuple[int, int] | None:
    """The worker index and OS pid a socket's name records, or None for other names."""
    parts = path.name.split(".")
    if len(parts) != 3 or parts[2] != "sock" or not parts[0].startswith("worker-"):
        return None
    index, os_pid = parts[0].removeprefix("worker-"), parts[1]
    if not (index.isdigit() and os_pid.isdigit()):
        return None
    return int(index), int(os_pid)
