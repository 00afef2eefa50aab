"""The checkpoint codec: a msgpack envelope and a pickled state, framed and signed (HMAC-SHA256).

A checkpoint file of format 2 (written since this version) is::

    magic (8) | format version (uint16) | envelope length (uint32) | payload length (uint64)
    | HMAC-SHA256 (32) | envelope (msgpack) | payload (pickle)

all integers big-endian. The HMAC covers the header, the envelope and the payload; the key is
32 random bytes in a key file private to the user (``persistence.keys``). The envelope
(``persistence.envelope``) says what the checkpoint is about: pid, class path, process state,
outline position, sizes, created and updated times. The payload is the process's saved state,
a pickled plain dict.

Reading checks the magic, the version, the lengths and then the HMAC (``hmac.compare_digest``)
before it looks at anything else. Then the envelope is read, which never unpickles or imports:
``describe`` stops there. ``decode`` goes on to judge the class path (``persistence.loadable``:
no standard-library or ``__main__`` class, before anything is imported) and only then unpickles
the payload, refusing globals from modules whose import does something visible. A refused file
raises a ``CheckpointError`` naming the file, what was wrong and what to do.

Format 1 (one signed pickle of ``{"format", "version", "class_path", "pid", "state"}``, written
by earlier versions) is still read by ``decode``: its class path is only known once the pickle is
loaded, so it is judged after; ``describe`` refuses it (it would have to unpickle). Any other
format version is refused with its number.

Why the payload is still a pickle with no allow-list of classes: a valid HMAC proves that the
payload was written by a holder of the key, that is by workactors itself running as this user.
Whoever can read the key can already write checkpoints, and so run code as this user; an
allow-list would add no defence against them, while it would refuse legitimate state (unstored
data nodes travel by value, and a work chain's ``ctx`` may hold any picklable object).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import pickle
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from persistence import envelope as envelopes
from persistence.envelope import ENVELOPE_VERSION, Envelope, EnvelopeError
from persistence.errors import (
    CheckpointCorruptError,
    CheckpointEncodeError,
    CheckpointError,
    CheckpointKeyError,
    CheckpointLoadError,
    CheckpointSignatureError,
    CheckpointVersionError,
)
from persistence.keys import KEY_SIZE, MAX_KEY_SIZE, load_or_create_key, read_key
from persistence.loadable import check_class_path, is_side_effect_module
from provenance.process_state import ProcessState

__all__ = [
    "DIGEST_SIZE",
    "FRAME_VERSION",
    "KEY_SIZE",
    "LEGACY_FRAME_VERSION",
    "LEGACY_PREFIX_SIZE",
    "MAGIC",
    "MAX_KEY_SIZE",
    "PREFIX_SIZE",
    "SIZES_PREFIX",
    "Checkpoint",
    "CheckpointCodec",
    "FrameSizes",
    "describe_checkpoint",
    "frame_sizes",
    "load_or_create_key",
]

MAGIC = b"WACKPT\r\n"  # \r\n: a file mangled by newline conversion fails at the first check
#: The format written: an envelope and a payload.
FRAME_VERSION = ENVELOPE_VERSION
#: The format of earlier versions, still read: one pickled record.
LEGACY_FRAME_VERSION = 1
RECORD_FORMAT = "workactors-checkpoint"
DIGEST_SIZE = hashlib.sha256().digest_size
_VERSION = struct.Struct(">8sH")
_HEADER = struct.Struct(">8sHIQ")
PREFIX_SIZE = _HEADER.size + DIGEST_SIZE
_LEGACY_HEADER = struct.Struct(">8sHQ")
LEGACY_PREFIX_SIZE = _LEGACY_HEADER.size + DIGEST_SIZE
_TERMINAL = frozenset(state.value for state in ProcessState if state.is_terminal)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What a checkpoint records: the process's pid, its class path and its saved state.

    ``created`` and ``updated`` (seconds since the epoch) are read from a checkpoint's
    envelope (None for format 1). When encoding, ``created`` may be given; otherwise the codec
    keeps the created time of a checkpoint it read or wrote before for this pid.
    """

    pid: int
    class_path: str
    state: Mapping[str, Any]
    created: float | None = None
    updated: float | None = None


class CheckpointCodec:
    """Encodes, verifies and describes checkpoints with one key.

    Args:
        key: the HMAC key, at least ``KEY_SIZE`` bytes.

    Raises:
        CheckpointKeyError: if the key is too short.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < KEY_SIZE:
            raise CheckpointKeyError(
                f"a checkpoint key needs at least {KEY_SIZE} bytes, got {len(key)}; "
                "use load_or_create_key(path) to make one"
            )
        self._key = bytes(key)
        # pid -> created time of the checkpoints in flight, so a rewrite keeps its creation.
        self._created: dict[int, float] = {}

    @classmethod
    def from_key_file(cls, path: str | os.PathLike[str]) -> CheckpointCodec:
        """A codec with the key in ``path``, which is created (0600) if missing."""
        return cls(load_or_create_key(path))

    def __getstate__(self) -> Any:
        raise TypeError("a CheckpointCodec holds a secret key and is not pickled")

    def __repr__(self) -> str:
        return "<CheckpointCodec>"

    def encode(self, checkpoint: Checkpoint, *, protocol: int = pickle.HIGHEST_PROTOCOL) -> bytes:
        """The signed bytes of ``checkpoint`` in format ``FRAME_VERSION``.

        Raises:
            CheckpointEncodeError: if the state cannot be pickled, or the pid or class path
                cannot be recorded.
        """
        pid, class_path, state = checkpoint.pid, checkpoint.class_path, checkpoint.state
        try:
            payload = pickle.dumps(dict(state), protocol=protocol)
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as exc:
            raise CheckpointEncodeError(
                f"cannot checkpoint process {pid} ({class_path}): its state "
                f"is not picklable: {exc}. Keep only picklable data in the state and context"
            ) from exc
        now = time.time()
        created = checkpoint.created
        if created is None:
            created = self._created.get(pid, now)
        process_state, position, sizes = envelopes.summary_of(state, len(payload))
        try:
            envelope = envelopes.pack_fields(
                pid,
                class_path,
                process_state=process_state,
                position=position,
                sizes=sizes,
                created=created,
                updated=now,
            )
        except (TypeError, ValueError, OverflowError) as exc:
            raise CheckpointEncodeError(
                f"cannot checkpoint process {pid!r:.40} ({class_path!r:.200}): {exc}; a pid is "
                "a non-negative int and a class path is text"
            ) from exc
        self._remember(pid, process_state, created)
        header = _HEADER.pack(MAGIC, FRAME_VERSION, len(envelope), len(payload))
        return header + self._sign(header, envelope, payload) + envelope + payload

    def decode(self, data: bytes, *, source: str = "<bytes>") -> Checkpoint:
        """Verify ``data`` and return the checkpoint it holds; ``source`` names it in errors.

        Raises:
            CheckpointCorruptError: not a checkpoint, truncated, or a malformed envelope/record.
            CheckpointVersionError: a format version this code does not read.
            CheckpointSignatureError: the HMAC does not match (changed, forged, another key).
            CheckpointLoadError: its class path is refused (nothing was imported for it), or
                the payload names code that does not exist here or must not be imported.
        """
        if self._version_of(data, source) == LEGACY_FRAME_VERSION:
            return self._decode_legacy(data, source)
        summary, payload = self._envelope_and_payload(data, source)
        _check_class_path(summary.class_path, source)
        state = _unpickle(payload, source)
        if not isinstance(state, dict):
            raise CheckpointCorruptError(
                f"checkpoint {source} is signed but its payload is a {type(state).__name__}, "
                "not a saved state; discard it"
            )
        self._remember(summary.pid, summary.process_state, summary.created)
        return Checkpoint(summary.pid, summary.class_path, state, summary.created, summary.updated)

    def describe(self, data: bytes, *, source: str = "<bytes>") -> Envelope:
        """What the checkpoint ``data`` is about, from its verified envelope alone: nothing is
        unpickled or imported.

        Raises:
            CheckpointVersionError: for format 1 (it only describes itself once rewritten,
                which happens at its next step) or an unknown version.
            CheckpointError: as ``decode`` for a corrupt, truncated or forged file.
        """
        if self._version_of(data, source) == LEGACY_FRAME_VERSION:
            raise CheckpointVersionError(
                f"checkpoint {source} has format version {LEGACY_FRAME_VERSION}, written by an "
                "earlier workactors: it has no envelope to describe it without unpickling. It "
                f"still loads, and is rewritten in format {FRAME_VERSION} at its next step"
            )
        return self._envelope_and_payload(data, source)[0]

    def read(self, path: str | os.PathLike[str]) -> Checkpoint:
        """Read and ``decode`` the checkpoint file at ``path``.

        Raises:
            FileNotFoundError: if there is no file at ``path``.
            CheckpointError: as ``decode``.
        """
        return self.decode(Path(path).read_bytes(), source=os.fspath(path))

    def describe_file(self, path: str | os.PathLike[str]) -> Envelope:
        """``describe`` the checkpoint file at ``path``.

        Raises:
            FileNotFoundError: if there is no file at ``path``.
            CheckpointError: as ``describe``.
        """
        return self.describe(Path(path).read_bytes(), source=os.fspath(path))

    def _remember(self, pid: int, process_state: str | None, created: float) -> None:
        if process_state in _TERMINAL:
            self._created.pop(pid, None)
        else:
            self._created[pid] = created

    def _sign(self, *parts: bytes) -> bytes:
        return hmac.digest(self._key, b"".join(parts), "sha256")

    def _verify(self, digest: bytes, parts: tuple[bytes, ...], source: str) -> None:
        if not hmac.compare_digest(digest, self._sign(*parts)):
            raise CheckpointSignatureError(
                f"checkpoint {source} failed its signature check: it was changed after it was "
                "written, forged, or signed with another key file. It was not unpickled; "
                "discard it, or resume it with the key that wrote it"
            )

    def _version_of(self, data: bytes, source: str) -> int:
        """The format version in the header of ``data``, after the checks every format shares."""
        if not data:
            raise CheckpointCorruptError(
                f"checkpoint {source} is empty; it cannot be resumed: restore it from a backup "
                "or discard it"
            )
        if not data.startswith(MAGIC[: len(data)]):
            raise CheckpointCorruptError(
                f"{source} is not a workactors checkpoint (it does not start with the checkpoint "
                "magic); it was not written by workactors: move it out of the running folder"
            )
        if len(data) < _VERSION.size:
            raise _truncated(source, len(data))
        version: int = _VERSION.unpack_from(data)[1]
        if version not in (FRAME_VERSION, LEGACY_FRAME_VERSION):
            raise CheckpointVersionError(
                f"checkpoint {source} has format version {version}; this workactors reads "
                f"versions {LEGACY_FRAME_VERSION} and {FRAME_VERSION}. Resume it with the "
                "workactors version that wrote it"
            )
        return version

    def _envelope_and_payload(self, data: bytes, source: str) -> tuple[Envelope, bytes]:
        if len(data) < PREFIX_SIZE:
            raise _truncated(source, len(data))
        header = data[: _HEADER.size]
        _magic, _version, envelope_size, payload_size = _HEADER.unpack(header)
        _check_length(data, PREFIX_SIZE + envelope_size + payload_size, source)
        envelope = data[PREFIX_SIZE : PREFIX_SIZE + envelope_size]
        payload = data[PREFIX_SIZE + envelope_size :]
        self._verify(data[_HEADER.size : PREFIX_SIZE], (header, envelope, payload), source)
        try:
            return envelopes.unpack(envelope), payload
        except EnvelopeError as exc:
            raise CheckpointCorruptError(
                f"checkpoint {source} is signed but {exc}; discard it"
            ) from None

    def _decode_legacy(self, data: bytes, source: str) -> Checkpoint:
        """A checkpoint of format 1: one signed pickle of a record."""
        if len(data) < LEGACY_PREFIX_SIZE:
            raise _truncated(source, len(data))
        header = data[: _LEGACY_HEADER.size]
        _check_length(data, LEGACY_PREFIX_SIZE + _LEGACY_HEADER.unpack(header)[2], source)
        payload = data[LEGACY_PREFIX_SIZE:]
        self._verify(data[_LEGACY_HEADER.size : LEGACY_PREFIX_SIZE], (header, payload), source)
        record = _unpickle(payload, source)
        if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
            raise CheckpointCorruptError(
                f"checkpoint {source} is signed but holds no workactors checkpoint record; "
                "discard it"
            )
        if record.get("version") != LEGACY_FRAME_VERSION:
            raise CheckpointVersionError(
                f"checkpoint {source} holds a record of version {record.get('version')!r}; this "
                f"workactors reads version {LEGACY_FRAME_VERSION}. Resume it with the version "
                "that wrote it"
            )
        pid, class_path, state = record.get("pid"), record.get("class_path"), record.get("state")
        if not (isinstance(pid, int) and isinstance(class_path, str) and isinstance(state, dict)):
            raise CheckpointCorruptError(
                f"checkpoint {source} has a malformed record (pid {pid!r}, class path "
                f"{class_path!r}, state of type {type(state).__name__}); discard it"
            )
        _check_class_path(class_path, source)
        return Checkpoint(pid=pid, class_path=class_path, state=state)


@dataclass(frozen=True, slots=True)
class FrameSizes:
    """The parts of a checkpoint in format ``FRAME_VERSION``, in bytes: ``prefix`` (magic,
    version, lengths and HMAC), ``envelope`` (msgpack) and ``payload`` (the pickled state)."""

    prefix: int
    envelope: int
    payload: int

    @property
    def total(self) -> int:
        """The whole checkpoint."""
        return self.prefix + self.envelope + self.payload


#: Bytes of a checkpoint that ``frame_sizes`` needs.
SIZES_PREFIX = _HEADER.size


def frame_sizes(data: bytes, *, source: str = "<bytes>") -> FrameSizes:
    """The sizes of the parts of the checkpoint that starts with ``data`` (at least
    ``SIZES_PREFIX`` bytes), read from its header alone: nothing is verified (benchmarks).

    Raises:
        CheckpointCorruptError: if ``data`` does not start a checkpoint of format 2.
    """
    if len(data) < _HEADER.size or not data.startswith(MAGIC):
        raise CheckpointCorruptError(f"{source} does not start a workactors checkpoint")
    _magic, version, envelope_size, payload_size = _HEADER.unpack_from(data)
    if version != FRAME_VERSION:
        raise CheckpointCorruptError(f"{source} has format version {version}, no envelope")
    return FrameSizes(PREFIX_SIZE, envelope_size, payload_size)


def describe_checkpoint(path: str | os.PathLike[str], key_file: str | os.PathLike[str]) -> Envelope:
    """What the checkpoint file at ``path`` is about (pid, class, process state, outline
    position, sizes, times), verified with the key in ``key_file``, read without unpickling or
    importing anything. The key file is never created here.

    Raises:
        FileNotFoundError: if there is no file at ``path``.
        CheckpointKeyError: if the key file is missing or not private.
        CheckpointError: as ``CheckpointCodec.describe``.
    """
    return CheckpointCodec(read_key(key_file)).describe_file(path)


class _PayloadUnpickler(pickle.Unpickler):
    """Refuses globals from modules whose import does something visible (defence in depth:
    the HMAC is the gate, and a signed pickle can call any callable)."""

    def find_class(self, module: str, name: str) -> Any:
        if is_side_effect_module(module):
            raise CheckpointLoadError(
                f"its payload names {module}.{name}, a module that is never imported for a "
                "checkpoint; it was not written by workactors for a process: discard it"
            )
        return super().find_class(module, name)


def _unpickle(payload: bytes, source: str) -> Any:
    try:
        return _PayloadUnpickler(io.BytesIO(payload)).load()  # verified by the HMAC
    except CheckpointError as exc:
        raise CheckpointLoadError(f"checkpoint {source}: {exc}") from None
    except (ImportError, AttributeError) as exc:
        raise CheckpointLoadError(
            f"checkpoint {source} is authentic but refers to code that is missing here: "
            f"{exc}. Install the version of the code that wrote it"
        ) from exc
    except Exception as exc:
        raise CheckpointCorruptError(
            f"checkpoint {source} is signed but its payload does not unpickle: {exc}; "
            "move it out of the running folder"
        ) from exc


def _check_class_path(class_path: str, source: str) -> None:
    try:
        check_class_path(class_path)
    except CheckpointLoadError as exc:
        raise CheckpointLoadError(f"checkpoint {source}: {exc}") from None


def _check_length(data: bytes, expected: int, source: str) -> None:
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "followed by extra bytes"
        raise CheckpointCorruptError(
            f"checkpoint {source} is {problem}: {len(data)} bytes where its header says "
            f"{expected}; it cannot be resumed: restore it from a backup or discard it"
        )


def _truncated(source: str, size: int) -> CheckpointCorruptError:
    return CheckpointCorruptError(
        f"checkpoint {source} is truncated ({size} bytes, shorter than its header); "
        "it cannot be resumed: restore it from a backup or discard it"
    )
