"""Intents in the file store: pause, play or kill asked for a process no runtime holds now.

The request is written next to the process's checkpoint as ``<pid>.intent`` (a msgpack
``Intent`` record of ``persistence.messages``, written atomically) and applied by the runtime
that next adopts the checkpoint, then removed (``CheckpointStore.take_intent``). An intent
file written as JSON by earlier versions (``{"action": ..., "message": ...}``) is still read.
"""

from __future__ import annotations

import json
from pathlib import Path

from persistence import messages
from persistence.atomic import atomic_write
from persistence.errors import MessageError
from persistence.messages import Action, Intent
from provenance.log import get_logger

__all__ = ["INTENT_SUFFIX", "Action", "Intent", "intent_path", "take_intent", "write_intent"]

log = get_logger(__name__)

INTENT_SUFFIX = ".intent"


def intent_path(running_directory: Path, pid: int) -> Path:
    """Where the intent for ``pid`` is kept."""
    return running_directory / f"{pid}{INTENT_SUFFIX}"


def write_intent(running_directory: Path, pid: int, intent: Intent) -> Path:
    """Record ``intent`` for ``pid``; a later one replaces an earlier one (the last word wins).

    Raises:
        MessageError: if the intent's fields have the wrong types.
    """
    path = intent_path(running_directory, pid)
    atomic_write(path, messages.encode(intent))
    return path


def take_intent(running_directory: Path, pid: int) -> Intent | None:
    """Read and remove the intent for ``pid``; None if there is none or it is unreadable."""
    path = intent_path(running_directory, pid)
    try:
        intent: Intent | None = read_intent(path.read_bytes())
    except FileNotFoundError:
        return None
    except MessageError as exc:
        log.warning("control.intent_unreadable", pid=pid, path=str(path), error=str(exc))
        intent = None
    path.unlink(missing_ok=True)
    return intent


def read_intent(data: bytes) -> Intent:
    """The intent an intent file holds: a msgpack record, or the JSON of earlier versions.

    Raises:
        MessageError: if ``data`` is neither.
    """
    if data.startswith(b"{"):  # JSON; a msgpack record starts with a map byte (0x80-0x8f)
        return _legacy_intent(data)
    record = messages.decode(data)
    if not isinstance(record, Intent):
        raise MessageError(f"an intent file holds a {type(record).__name__} record, not an intent")
    return record


def _legacy_intent(data: bytes) -> Intent:
    try:
        body = json.loads(data)
        message = body.get("message")
        if message is not None and not isinstance(message, str):
            raise TypeError(f"a message is text, not {type(message).__name__}")
        return Intent(Action(body["action"]), message)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise MessageError(f"a JSON intent file that is not an intent: {exc!r:.200}") from None
