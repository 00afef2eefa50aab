"""Creating a runtime's home and its checkpoint folders, with an error that says what is wrong."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from actors.errors import ActorError


class HomeFolderError(ActorError, OSError):
    """The home of a runtime (or a folder in it) cannot be created or used as a folder."""


def make_home(home: Path, folders: Iterable[Path]) -> None:
    """Create ``home`` and ``folders`` (owner-only, 0700) unless they exist.

    Raises:
        HomeFolderError: if one of them is a file, or cannot be created.
    """
    for folder in (home, *folders):
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            in_the_way = _first_file(folder)
            raise HomeFolderError(
                f"cannot use {home} as the workactors home: {in_the_way} is a file, not a "
                "folder. Pass a folder (it is created if missing), e.g. Runtime(home=...) or "
                "$WORKACTORS_HOME, or move the file away"
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


__all__ = ["HomeFolderError", "make_home"]
