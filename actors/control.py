"""Intents: pause, play or kill asked for a process that no runtime holds right now.

The request is written next to the process's checkpoint as ``<pid>.intent`` (JSON, written
atomically) and applied by the runtime that next adopts the checkpoint, then removed.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from pathlib import Path

from persistence.atomic import atomic_write
from provenance.log import get_logger

log = get_logger(__name__)

INTENT_SUFFIX = ".intent"


class Action(enum.StrEnum):
    """What may be asked of a process from outside."""

    PAUSE = "pause"
    PLAY = "play"
    KILL = "kill"


@dataclass(frozen=True, slots=True)
class Intent:
    """One request: ``action``, with ``message`` for a kill."""

    action: Action
    message: str | None = None


def intent_path(running_directory: Path, pid: int) -> Path:
    """Where the intent for ``pid`` is kept."""
    return running_directory / f"{pid}{INTENT_SUFFIX}"


def write_intent(running_directory: Path, pid: int, intent: Intent) -> Path:
    """Record ``intent`` for ``pid``; a later one replaces an earlier one (the last word wins)."""
    path = intent_path(running_directory, pid)
    body = {"action": intent.action.value, "message": intent.message}
    atomic_write(path, json.dumps(body).encode())
    return path


def take_intent(running_directory: Path, pid: int) -> Intent | None:
    """Read and remove the intent for ``pid``; None if there is none or it is unreadable."""
    path = intent_path(running_directory, pid)
    try:
        body = json.loads(path.read_bytes())
        intent = Intent(Action(body["action"]), body.get("message"))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("control.intent_unreadable", pid=pid, path=str(path), error=str(exc))
        intent = None
    path.unlink(missing_ok=True)
    return intent
