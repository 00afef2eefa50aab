"""What crosses a process boundary as a message: small typed records, encoded with msgpack.

Daemon workers receive wakes, relayed ends and pause/play/kill requests as datagrams; a request
for a process nobody holds is kept as an intent file beside its checkpoint; the PostgreSQL mode
will carry the same records as ``NOTIFY`` payloads. All of them are one msgpack map::

    {"v": 1, "type": "wake" | "ended" | "control" | "intent", <the record's fields>}

``decode`` refuses, with a ``MessageError``, anything else: bytes that are no msgpack map, another
version, an unknown type, a missing, unknown or mistyped field. Whatever the bytes, no other
exception escapes it, so a receiver logs and drops what it cannot read and goes on.

Text may be of any length and hold any character (NUL, lone surrogates from undecodable
command-line bytes: they travel as ``surrogatepass`` UTF-8). A transport with a size limit (a
datagram, a ``NOTIFY`` payload) calls ``encode(message, limit=...)``: a message too long for it
keeps the head of its text and ends with a note saying how many characters were cut; no record
is ever refused for its length, and none is ever cut silently.

This module lives in ``persistence`` because the checkpoint stores read and write intents and
will send the ``NOTIFY`` payloads; ``actors`` re-exports what it uses.
"""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import msgpack

from persistence.errors import MessageError
from provenance.log import get_logger

log = get_logger(__name__)

#: The version of the message map; a receiver refuses any other.
MESSAGE_VERSION = 1
#: PostgreSQL refuses a ``NOTIFY`` payload of 8000 bytes or more (default build).
NOTIFY_LIMIT = 7999
#: Largest pid a message carries (a node pk; msgpack's signed 64-bit range).
MAX_PID = 2**63 - 1
_TEXT_ERRORS = "surrogatepass"


class Action(enum.StrEnum):
    """What may be asked of a process from outside."""

    PAUSE = "pause"
    PLAY = "play"
    KILL = "kill"


@dataclass(frozen=True, slots=True)
class Wake:
    """Look for checkpoints to adopt."""


@dataclass(frozen=True, slots=True)
class Terminated:
    """Process ``pid`` ended in another worker."""

    pid: int


@dataclass(frozen=True, slots=True)
class ControlRequest:
    """Pause, play or kill ``pid`` (with ``message`` for a kill), if this worker holds it."""

    action: Action
    pid: int
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Intent:
    """A pause, play or kill kept for a process nobody holds (``message`` for a kill)."""

    action: Action
    message: str | None = None


Record = Wake | Terminated | ControlRequest | Intent
WAKE = Wake()


def _pid(value: Any) -> int:
    if type(value) is not int or not 0 <= value <= MAX_PID:
        raise MessageError(f"a pid is an integer from 0 to {MAX_PID}, not {value!r:.80}")
    return value


def _action(value: Any) -> Action:
    try:
        return Action(value)
    except (ValueError, TypeError):
        choices = ", ".join(action.value for action in Action)
        raise MessageError(f"an action is one of {choices}, not {value!r:.80}") from None


def _text(value: Any) -> str | None:
    if value is not None and type(value) is not str:
        raise MessageError(f"a message is text or nil, not {type(value).__name__}")
    return value


# type name -> (record class, field name -> validator of the decoded value)
_SCHEMAS: dict[str, tuple[type[Any], dict[str, Callable[[Any], Any]]]] = {
    "wake": (Wake, {}),
    "ended": (Terminated, {"pid": _pid}),
    "control": (ControlRequest, {"action": _action, "pid": _pid, "message": _text}),
    "intent": (Intent, {"action": _action, "message": _text}),
}
_TYPE_OF = {cls: name for name, (cls, _fields) in _SCHEMAS.items()}


def _fields_of(record: Record) -> dict[str, Any]:
    """The wire map of ``record``, its fields checked as a receiver would check them."""
    type_name = _TYPE_OF.get(type(record))
    if type_name is None:
        raise MessageError(f"{record!r:.80} is not a message record")
    body: dict[str, Any] = {"v": MESSAGE_VERSION, "type": type_name}
    for name, check in _SCHEMAS[type_name][1].items():
        value = getattr(record, name)
        check(value)
        body[name] = value.value if isinstance(value, Action) else value
    return body


def _pack(record: Record) -> bytes:
    body = _fields_of(record)
    try:
        data: bytes = msgpack.packb(body, unicode_errors=_TEXT_ERRORS)
    except (TypeError, ValueError, OverflowError) as exc:
        raise MessageError(f"{record!r:.80} cannot be encoded: {exc}") from exc
    return data


def encode(record: Record, *, limit: int | None = None) -> bytes:
    """The msgpack bytes of ``record``, at most ``limit`` bytes long if given.

    Raises:
        MessageError: if a field has the wrong type or range.
    """
    return _pack(record) if limit is None else _fit(record, limit)


def decode(data: bytes) -> Record:
    """The record ``data`` holds.

    Raises:
        MessageError: if ``data`` is not exactly one message of this version (and only that).
    """
    try:
        body = msgpack.unpackb(data, raw=False, strict_map_key=True, unicode_errors=_TEXT_ERRORS)
    except Exception as exc:  # msgpack raises a dozen types for bad bytes: all mean "not one"
        raise MessageError(f"not a workactors message ({exc}): {bytes(data[:80])!r}") from None
    if not isinstance(body, dict):
        raise MessageError(f"not a workactors message (no map): {bytes(data[:80])!r}")
    return _record_of(body)


def _record_of(body: Mapping[Any, Any]) -> Record:
    version = body.get("v")
    if version != MESSAGE_VERSION:
        raise MessageError(
            f"a message of version {version!r:.40}; this workactors reads version "
            f"{MESSAGE_VERSION}: run the same workactors version in every worker and submitter"
        )
    type_name = body.get("type")
    schema = _SCHEMAS.get(type_name) if isinstance(type_name, str) else None
    if schema is None:
        known = ", ".join(_SCHEMAS)
        raise MessageError(f"unknown message type {type_name!r:.80}; known: {known}")
    cls, fields = schema
    given = set(body) - {"v", "type"}
    if given != set(fields):
        unknown = ", ".join(sorted(repr(key) for key in given - set(fields)))
        missing = ", ".join(sorted(repr(key) for key in set(fields) - given))
        raise MessageError(
            f"a {type_name!r} message with unknown fields [{unknown}], missing fields [{missing}]"
        )
    return cls(**{name: check(body[name]) for name, check in fields.items()})  # type: ignore[no-any-return]


def encode_notify(record: Record) -> str:
    """``record`` as a PostgreSQL ``NOTIFY`` payload: base64 text of at most ``NOTIFY_LIMIT``
    bytes (a payload is text in the server encoding and may not hold NUL)."""
    return base64.b64encode(_fit(record, NOTIFY_LIMIT, _base64_size)).decode("ascii")


def _base64_size(data: bytes) -> int:
    return 4 * ((len(data) + 2) // 3)


def _fit(record: Record, limit: int, size: Callable[[bytes], int] = len) -> bytes:
    """``record`` packed to at most ``limit`` bytes as measured by ``size``; if it is too long,
    the head of its text that fits, followed by a note saying how much was cut."""
    data = _pack(record)
    if size(data) <= limit:
        return data
    text = getattr(record, "message", None)
    if not text:
        raise MessageError(f"a {type(record).__name__} message cannot fit in {limit} bytes")

    def packed(keep: int) -> bytes:
        note = f" [{len(text) - keep} of {len(text)} characters cut to fit {limit} bytes]"
        return _pack(replace(record, message=text[:keep] + note))

    low, high = 0, min(len(text), limit)  # a character takes a byte at least
    if size(packed(low)) > limit:
        raise MessageError(f"a {type(record).__name__} message cannot fit in {limit} bytes")
    while low < high:  # the largest head that fits: the size grows with the head kept
        middle = (low + high + 1) // 2
        if size(packed(middle)) <= limit:
            low = middle
        else:
            high = middle - 1
    log.warning("message.text_cut", record=type(record).__name__, characters=len(text), kept=low)
    return packed(low)


def decode_notify(payload: str) -> Record:
    """The record a ``NOTIFY`` payload made by ``encode_notify`` holds.

    Raises:
        MessageError: if it is not one.
    """
    try:
        data = base64.b64decode(payload.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, AttributeError) as exc:
        raise MessageError(f"not a workactors notification ({exc}): {payload!r:.80}") from None
    return decode(data)
