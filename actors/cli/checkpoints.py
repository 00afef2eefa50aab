"""What a process's checkpoint says about itself, read without unpickling or importing anything.

``process show`` prints it: where the checkpoint is (waiting in ``running/``, retired to
``finished/`` or ``failed/``), its format, the state and outline position it resumes from, its
size and when it was written. A checkpoint that cannot be described (forged, damaged, of
another key) says why instead: that is what a worker would refuse it for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actors.assembly import KEY_FILE_NAME, database_key
from actors.cli.format import humanise_age
from actors.home import running_directory
from persistence import CheckpointCodec, CheckpointError, Envelope, describe_checkpoint
from persistence.folders import CHECKPOINT_SUFFIX

if TYPE_CHECKING:
    from persistence.pg_queue import QueuedCheckpoint

#: The folders a checkpoint may be in, in the order they are looked at.
FOLDERS = ("running", "finished", "failed")


@dataclass(frozen=True, slots=True)
class CheckpointView:
    """One checkpoint file of a process: where it is, its size, and its envelope or problem."""

    folder: str
    size: int
    envelope: Envelope | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON of ``process show --json``."""
        return {
            "folder": self.folder,
            "bytes": self.size,
            "envelope": self.envelope.as_dict() if self.envelope is not None else None,
            "problem": self.problem,
        }


def checkpoint_of(home: Path, pid: int) -> CheckpointView | None:
    """The checkpoint of process ``pid`` in ``home``'s file store, if it has one."""
    running = running_directory(home)
    for folder in FOLDERS:
        path = (running if folder == "running" else running / folder) / f"{pid}{CHECKPOINT_SUFFIX}"
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            continue
        try:
            envelope = describe_checkpoint(path, home / KEY_FILE_NAME)
        except FileNotFoundError:
            continue  # moved between the stat and the read: look in the next folder
        except (CheckpointError, OSError) as exc:
            return CheckpointView(folder, size, problem=str(exc))
        return CheckpointView(folder, size, envelope=envelope)
    return None


def database_checkpoint_of(url: str, home: Path, pid: int) -> CheckpointView | None:
    """The checkpoint of process ``pid`` in the shared database at ``url``, if it has one."""
    from persistence.pg_queue import checkpoint_row  # psycopg: only for a shared database

    row = checkpoint_row(url, pid)
    return None if row is None else row_views([row], home)[0]


def row_views(rows: Sequence[QueuedCheckpoint], home: Path) -> list[CheckpointView]:
    """What checkpoint rows of a shared database say, verified with this machine's key (read
    once for all of them)."""
    from persistence.postgres_store import key_id_of

    try:
        key: bytes | None = database_key(home)
        problem = None
    except (CheckpointError, OSError) as exc:
        key, problem = None, str(exc)
    views = []
    for row in rows:
        folder = f"postgresql:{row.status}"
        if row.data is None:
            views.append(
                CheckpointView(folder, 0, problem="a submission whose checkpoint is being written")
            )
        elif key is None:
            views.append(CheckpointView(folder, row.size, problem=problem))
        elif key_id_of(key) != row.key_id:
            views.append(
                CheckpointView(
                    folder, row.size, problem="signed with another machine's key: the keys differ"
                )
            )
        else:
            try:
                envelope = CheckpointCodec(key).describe(row.data, source=f"{folder}/{row.pid}")
            except CheckpointError as exc:
                views.append(CheckpointView(folder, row.size, problem=str(exc)))
            else:
                views.append(CheckpointView(folder, row.size, envelope=envelope))
    return views


def summary(view: CheckpointView, now: dt.datetime) -> str:
    """One line: ``running/, format 2, waiting at (1, 0), 1.2 KiB, written 3s ago``."""
    where = view.folder if ":" in view.folder else f"{view.folder}/"
    if view.envelope is None:
        return f"{where}, {format_size(view.size)}: cannot be read ({view.problem})"
    envelope = view.envelope
    state = envelope.process_state or "no state"
    position = "" if envelope.position is None else f" at {_position(envelope.position)}"
    written = dt.datetime.fromtimestamp(envelope.updated, dt.UTC)
    return (
        f"{where}, format {envelope.version}, {state}{position}, {format_size(view.size)}, "
        f"written {humanise_age(written, now)}"
    )


def format_size(count: int) -> str:
    """A byte count for people: ``830 B``, ``1.2 KiB``."""
    value = float(count)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _position(position: tuple[Any, ...]) -> str:
    return "step " + ".".join(str(part) for part in position) if position else "the start"
