"""The checkpoint codec: a msgpack envelope and a pickled state, framed and signed (HMAC-SHA256).

The HMAC covers the frame's header, the envelope and the payload (``persistence.frame`` lays
them out); the key is 32 random bytes in a key file private to the user (``persistence.keys``).
The envelope (``persistence.envelope``) says what the checkpoint is about: pid, class path,
process state, outline position, sizes, created and updated times. The payload is the process's
saved state, a pickled plain dict (``persistence.payload``).

Reading checks the magic, the version, the lengths and then the HMAC (``hmac.compare_digest``)
before it looks at anything else. Then the envelope is read, which never unpickles or imports:
``describe`` stops there. ``decode`` goes on to judge the class path (``persistence.loadable``:
no standard-library or ``__main__`` class, before anything is imported) and only then unpickles
the payload, refusing globals from modules whose import does something visible. A refused file
raises a ``CheckpointError`` naming the file, what was wrong and what to do.

Format 1 (one signed pickle of a record, written by earlier versions) is still read by
``decode`` (``persistence.legacy_record``); ``describe`` refuses it (it would have to unpickle).
Any other format version is refused with its number.

Why the payload is still a pickle with no allow-list of classes: a valid HMAC proves that the
payload was written by a holder of the key, that is by workactors itself running as this user.
Whoever can read the key can already write checkpoints, and so run code as this user; an
allow-list would add no defence against them, while it would refuse legitimate state (unstored
data nodes travel by value, and a work chain's ``ctx`` may hold any picklable object).
"""

from __future__ import annotations

import hmac
import os
import pickle
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from persistence import envelope as envelopes
from persistence.envelope import Envelope, EnvelopeError
from persistence.errors import (
    CheckpointCorruptError,
    CheckpointEncodeError,
    CheckpointKeyError,
    CheckpointSignatureError,
    CheckpointVersionError,
)
from persistence.frame import (
    DIGEST_SIZE,
    FRAME_VERSION,
    LEGACY_FRAME_VERSION,
    LEGACY_PREFIX_SIZE,
    MAGIC,
    PREFIX_SIZE,
    SIZES_PREFIX,
    Frame,
    FrameSizes,
    frame_sizes,
    pack_header,
    split_frame,
    split_legacy_frame,
    version_of,
)
from persistence.keys import KEY_SIZE, MAX_KEY_SIZE, load_or_create_key, read_key
from persistence.legacy_record import read_legacy_record
from persistence.payload import check_class_path_of, pickle_state, unpickle_payload
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
        payload = pickle_state(pid, class_path, state, protocol)
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
        header = pack_header(len(envelope), len(payload))
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
        if version_of(data, source) == LEGACY_FRAME_VERSION:
            return self._decode_legacy(data, source)
        summary, payload = self._envelope_and_payload(data, source)
        check_class_path_of(summary.class_path, source)
        state = unpickle_payload(payload, source)
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
        if version_of(data, source) == LEGACY_FRAME_VERSION:
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

    def _verified(self, frame: Frame, source: str) -> Frame:
        """``frame``, once its HMAC matched; nothing in it is looked at before."""
        if not hmac.compare_digest(frame.digest, self._sign(*frame.signed)):
            raise CheckpointSignatureError(
                f"checkpoint {source} failed its signature check: it was changed after it was "
                "written, forged, or signed with another key file. It was not unpickled; "
                "discard it, or resume it with the key that wrote it"
            )
        return frame

    def _envelope_and_payload(self, data: bytes, source: str) -> tuple[Envelope, bytes]:
        frame = self._verified(split_frame(data, source), source)
        try:
            return envelopes.unpack(frame.envelope), frame.payload
        except EnvelopeError as exc:
            raise CheckpointCorruptError(
                f"checkpoint {source} is signed but {exc}; discard it"
            ) from None

    def _decode_legacy(self, data: bytes, source: str) -> Checkpoint:
        """A checkpoint of format 1: one signed pickle of a record."""
        frame = self._verified(split_legacy_frame(data, source), source)
        pid, class_path, state = read_legacy_record(frame.payload, source)
        return Checkpoint(pid=pid, class_path=class_path, state=state)


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
