"""Where a runtime keeps its files: the home folder, from an argument or the environment."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "WORKACTORS_HOME"
DATABASE_URL_ENV = "WORKACTORS_DATABASE_URL"


def default_home() -> Path:
    """``$WORKACTORS_HOME``, else ``~/.workactors``."""
    env = os.environ.get(HOME_ENV)
    return Path(env).expanduser() if env else Path.home() / ".workactors"


def running_directory(home: Path) -> Path:
    """Checkpoints of processes that have not terminated."""
    return home / "running"


def prepare_home(home: Path) -> None:
    """Create the home and its checkpoint folders, private to this user."""
    running = running_directory(home)
    for folder in (home, running, running / "finished", running / "failed"):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
