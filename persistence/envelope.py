"""The envelope of a checkpoint: what it is about, readable without unpickling anything.

A checkpoint of format 2 is a msgpack envelope followed by the pickled process state, both
covered by one HMAC (``persistence.codec``). The envelope is a map::

    {"version": 2, "pid": 7, "class": "pkg.mod.Cls", "state": "waiting",
     "position": [1, [0]], "sizes": {"payload": 812, "inputs": 2, "outputs": 0, "context": 3},
     "created": 1764640000.12, "updated": 1764640003.5}

``state`` and ``position`` copy the process state and the work chain's outline position from the
saved state when it has them (nil otherwise); ``sizes`` gives the payload's bytes and how many
inputs, outputs and context entries the state holds; times are seconds since the epoch (UTC).
Unpacking is strict: a missing, unknown or mistyped field is an error, so any change to this map
is a new format version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgpack

#: The checkpoint format whose envelope this module reads and writes.
ENVELOPE_VERSION = 2
#: Keys of a process's saved state the envelope summarises (``Process.SaveKeys``; this package
#: does not import ``actors``).
STATE_KEY, POSITION_KEY = "state", "stepper"
COUNTED_KEYS = {"inputs": "inputs", "outputs": "outputs", "context": "ctx"}
_MAX_POSITION_DEPTH = 64
_TEXT_ERRORS = "surrogatepass"  # any str round-trips, as in persistence.messages
_SIZED = frozenset({dict, list, tuple})
_MIN_INT, _MAX_INT = -(2**63), 2**63 - 1
_FIELDS = frozenset({"version", "pid", "class", "state", "position", "sizes", "created", "updated"})


class EnvelopeError(ValueError):
    """Bytes that are no envelope of this version (the codec turns it into a CheckpointError)."""


Position = tuple[Any, ...] | None


@dataclass(frozen=True, slots=True)
class Envelope:
    """What a checkpoint says about itself: enough for a status line, nothing to import."""

    version: int
    pid: int
    class_path: str
    process_state: str | None
    position: Position
    sizes: Mapping[str, int]
    created: float
    updated: float

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values; times as ISO 8601 in UTC."""
        return {
            "version": self.version,
            "pid": self.pid,
            "class_path": self.class_path,
            "process_state": self.process_state,
            "position": _as_lists(self.position),
            "sizes": dict(self.sizes),
            "created": _iso(self.created),
            "updated": _iso(self.updated),
        }


def summarise(
    pid: int,
    class_path: str,
    state: Mapping[str, Any],
    payload_size: int,
    *,
    created: float,
    updated: float,
) -> Envelope:
    """The envelope of a checkpoint of ``state`` whose pickle is ``payload_size`` bytes."""
    process_state, position, sizes = summary_of(state, payload_size)
    return Envelope(
        ENVELOPE_VERSION, pid, class_path, process_state, position, sizes, created, updated
    )


def summary_of(
    state: Mapping[str, Any], payload_size: int
) -> tuple[str | None, Position, dict[str, int]]:
    """The process state, outline position and sizes the envelope of ``state`` records."""
    process_state = state.get(STATE_KEY)
    position = state.get(POSITION_KEY)
    sizes = {"payload": payload_size}
    for name, key in COUNTED_KEYS.items():
        value = state.get(key)
        if value is not None and (type(value) in _SIZED or isinstance(value, Mapping)):
            sizes[name] = len(value)
    return (
        str(process_state) if isinstance(process_state, str) else None,
        position if _is_position(position, 0) else None,
        sizes,
    )


def pack(envelope: Envelope) -> bytes:
    """The msgpack bytes of ``envelope``."""
    return pack_fields(
        envelope.pid,
        envelope.class_path,
        process_state=envelope.process_state,
        position=envelope.position,
        sizes=envelope.sizes,
        created=envelope.created,
        updated=envelope.updated,
    )


def pack_fields(
    pid: int,
    class_path: str,
    *,
    process_state: str | None,
    position: Position,
    sizes: Mapping[str, int],
    created: float,
    updated: float,
) -> bytes:
    """The msgpack bytes of the envelope with these fields (what ``pack`` writes, without
    building an ``Envelope`` first: this runs once per checkpoint written).

    Raises:
        TypeError, ValueError, OverflowError: if a field cannot be packed.
    """
    data: bytes = msgpack.packb(
        {
            "version": ENVELOPE_VERSION,
            "pid": pid,
            "class": class_path,
            "state": process_state,
            "position": position,
            "sizes": dict(sizes),
            "created": float(created),
            "updated": float(updated),
        },
        unicode_errors=_TEXT_ERRORS,
    )
    return data


def unpack(data: bytes) -> Envelope:
    """The envelope ``data`` holds.

    Raises:
        EnvelopeError: if it is not exactly one envelope of ``ENVELOPE_VERSION``.
    """
    try:
        body = msgpack.unpackb(
            data, raw=False, use_list=False, strict_map_key=True, unicode_errors=_TEXT_ERRORS
        )
    except Exception as exc:  # msgpack raises many types for bad bytes: all mean "not one"
        raise EnvelopeError(f"its envelope is not msgpack ({exc})") from None
    if not isinstance(body, dict):
        raise EnvelopeError(f"its envelope is a {type(body).__name__}, not a map")
    if body.get("version") != ENVELOPE_VERSION:
        raise EnvelopeError(f"its envelope has version {body.get('version')!r:.40}")
    if set(body) != _FIELDS:
        unknown = ", ".join(sorted(repr(key) for key in set(body) - _FIELDS))
        missing = ", ".join(sorted(repr(key) for key in _FIELDS - set(body)))
        raise EnvelopeError(f"its envelope has unknown fields [{unknown}], missing [{missing}]")
    pid, class_path, sizes = body["pid"], body["class"], body["sizes"]
    state, position = body["state"], body["position"]
    created, updated = body["created"], body["updated"]
    problems = [
        f"pid {pid!r:.40}" if type(pid) is not int or pid < 0 else "",
        f"class {class_path!r:.80}" if type(class_path) is not str else "",
        f"state {state!r:.40}" if state is not None and type(state) is not str else "",
        f"position {position!r:.80}" if not _is_position(position, 0) else "",
        f"sizes {sizes!r:.80}" if not _are_sizes(sizes) else "",
        f"created {created!r:.40}" if type(created) is not float else "",
        f"updated {updated!r:.40}" if type(updated) is not float else "",
    ]
    if any(problems):
        raise EnvelopeError(f"its envelope has a malformed {', '.join(filter(None, problems))}")
    return Envelope(ENVELOPE_VERSION, pid, class_path, state, position, sizes, created, updated)


def _is_position(value: Any, depth: int) -> bool:
    """True for an outline position: None, or tuples of ints and positions (``actors.outline``)."""
    if value is None:
        return True
    if type(value) is not tuple or depth > _MAX_POSITION_DEPTH:
        return False
    for item in value:
        if type(item) is int:
            if not _MIN_INT <= item <= _MAX_INT:
                return False
        elif not _is_position(item, depth + 1):
            return False
    return True


def _are_sizes(value: Any) -> bool:
    return isinstance(value, dict) and all(
        type(name) is str and type(size) is int and 0 <= size < 2**63
        for name, size in value.items()
    )


def _as_lists(position: Position) -> Any:
    if isinstance(position, tuple):
        return [_as_lists(item) for item in position]
    return position


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat()
