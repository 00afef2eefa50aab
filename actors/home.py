"""Where a runtime keeps its files: the home folder, from an argument or the environment."""

from __future__ import annotations

import os
from pathlib import Path

from actors.errors import ActorError

HOME_ENV = "WORKACTORS_HOME"
DATABASE_URL_ENV = "WORKACTORS_DATABASE_URL"


def default_home() -> Path:
    """``$WORKACTORS_HOME``, else ``~/.workactors``."""
    env = os.environ.get(HOME_ENV)
    return Path(env).expanduser() if env else Path.home() / ".workactors"


def running_directory(home: Path) -> Path:
    """Checkpoints of processes that have not terminated."""
    return home / "running"


class HomeFolderError(ActorError, OSError):
    """The home of a runtime (or a folder in it) cannot be created or used as a folder."""


def prepare_home(home: Path) -> None:
    """Create the home and its checkpoint folders, private to this user.

    Raises:
        HomeFolderError: if one of them is a file, or cannot be created.
    """
    running = running_directory(home)
    for folder in (home, running, running / "finished", running / "failed"):
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise HomeFolderError(
                f"cannot use {home} as the workactors home: {_first_file(folder)} is a file, "
                "not a folder. Pass a folder (it is created if missing), e.g. "
                "Runtime(home=...) or $WORKACTORS_HOME, or move the file away"
            ) from exc
        except PermissionError as exc:
            raise HomeFolderError(
                f"cannot create {folder} for the workactors home {home}: permission denied. "
                "Choose a home you can write to, or fix the folder's permissions"
            ) from exc


def _first_file(path: Path) -> Path:
    """The first component of ``path`` that exists and is not a folder."""
    for candidate in (*reversed(path.parents), path):
        if candidate.exists() and not candidate.is_dir():
            return candidate
    return path
