"""The frame of a checkpoint: where its parts lie in the bytes, and whether their lengths add up.

A checkpoint of format 2 (written since this version) is::

    magic (8) | format version (uint16) | envelope length (uint32) | payload length (uint64)
    | HMAC-SHA256 (32) | envelope (msgpack) | payload (pickle)

and one of format 1 (written by earlier versions, still read) is::

    magic (8) | format version (uint16) | payload length (uint64) | HMAC-SHA256 (32) | payload

all integers big-endian. The frame is kept apart from the codec because it needs no key: it
checks the magic, the version and the lengths, which every reader must do before it verifies
the HMAC (``persistence.codec``), and it gives the sizes of a checkpoint's parts to readers
that hold no key at all (benchmarks, the daemon's workload report).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Any

from persistence.envelope import ENVELOPE_VERSION
from persistence.errors import CheckpointCorruptError, CheckpointVersionError

MAGIC = b"WACKPT\r\n"  # \r\n: a file mangled by newline conversion fails at the first check
#: The format written: an envelope and a payload.
FRAME_VERSION = ENVELOPE_VERSION
#: The format of earlier versions, still read: one pickled record.
LEGACY_FRAME_VERSION = 1
DIGEST_SIZE = hashlib.sha256().digest_size
_VERSION = struct.Struct(">8sH")
_HEADER = struct.Struct(">8sHIQ")
PREFIX_SIZE = _HEADER.size + DIGEST_SIZE
_LEGACY_HEADER = struct.Struct(">8sHQ")
LEGACY_PREFIX_SIZE = _LEGACY_HEADER.size + DIGEST_SIZE
#: Bytes of a checkpoint that ``frame_sizes`` needs.
SIZES_PREFIX = _HEADER.size


@dataclass(frozen=True, slots=True)
class Frame:
    """The parts of a checkpoint, not yet verified: ``signed`` is what its HMAC covers, in
    order (the header, then the envelope and the payload); ``envelope`` is empty in format 1."""

    signed: tuple[bytes, ...]
    digest: bytes
    envelope: bytes
    payload: bytes


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


def pack_header(envelope_size: int, payload_size: int) -> bytes:
    """The header of a checkpoint of format ``FRAME_VERSION`` with parts of these sizes."""
    return _HEADER.pack(MAGIC, FRAME_VERSION, envelope_size, payload_size)


def version_of(data: bytes, source: str) -> int:
    """The format version in the header of ``data``, after the checks every format shares.

    Raises:
        CheckpointCorruptError: if ``data`` is empty, no checkpoint, or shorter than its header.
        CheckpointVersionError: if it has a format version this code does not read.
    """
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


def split_frame(data: bytes, source: str) -> Frame:
    """The parts of ``data``, a checkpoint of format ``FRAME_VERSION`` (see ``version_of``).

    Raises:
        CheckpointCorruptError: if it is truncated or followed by extra bytes.
    """
    header, digest, (_magic, _version, envelope_size, payload_size) = _split_prefix(
        data, _HEADER, source
    )
    _check_length(data, PREFIX_SIZE + envelope_size + payload_size, source)
    envelope = data[PREFIX_SIZE : PREFIX_SIZE + envelope_size]
    payload = data[PREFIX_SIZE + envelope_size :]
    return Frame((header, envelope, payload), digest, envelope, payload)


def split_legacy_frame(data: bytes, source: str) -> Frame:
    """The parts of ``data``, a checkpoint of format ``LEGACY_FRAME_VERSION``.

    Raises:
        CheckpointCorruptError: if it is truncated or followed by extra bytes.
    """
    header, digest, (_magic, _version, payload_size) = _split_prefix(data, _LEGACY_HEADER, source)
    _check_length(data, LEGACY_PREFIX_SIZE + payload_size, source)
    payload = data[LEGACY_PREFIX_SIZE:]
    return Frame((header, payload), digest, b"", payload)


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


def _split_prefix(
    data: bytes, header: struct.Struct, source: str
) -> tuple[bytes, bytes, tuple[Any, ...]]:
    """The header of ``data`` laid out as ``header``, the digest after it, the header's fields.

    Raises:
        CheckpointCorruptError: if ``data`` is shorter than the two.
    """
    prefix_size = header.size + DIGEST_SIZE
    if len(data) < prefix_size:
        raise _truncated(source, len(data))
    head = data[: header.size]
    return head, data[header.size : prefix_size], header.unpack(head)


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
