"""The checkpoint codec: a versioned record, pickled, framed and signed with HMAC-SHA256.

A checkpoint file is::

    magic (8 bytes) | frame version (uint16) | payload length (uint64) | HMAC-SHA256 (32) | payload

all integers big-endian. The HMAC covers the header (magic, version, length) and the payload;
the key is 32 random bytes in a key file private to the user (0600). The payload is a pickled
plain dict, ``{"format": "workactors-checkpoint", "version": 1, "class_path", "pid", "state"}``,
so that reading it never depends on the layout of a class of ours.

``decode`` checks the magic, the frame version, the length and then the HMAC (with
``hmac.compare_digest``) *before* it unpickles anything. A file that fails any check is refused
with a ``CheckpointError`` naming the file, what was wrong and what to do; its bytes never reach
``pickle``.

Why no restricted ``Unpickler``: a valid HMAC proves that the payload was written by a holder of
the key, that is by workactors itself running as this user. Whoever can read the key can already
write checkpoints, and so run code as this user; an allow-list of classes would add no defence
against them, while it would refuse legitimate state (unstored data nodes travel by value, and a
work chain's ``ctx`` may hold any picklable object of the user's). The HMAC is the gate; it is
checked first, in constant time.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import pickle
import secrets
import stat
import struct
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from persistence.atomic import PRIVATE_FILE_MODE, fsync_directory, make_private_directory
from persistence.errors import (
    CheckpointCorruptError,
    CheckpointEncodeError,
    CheckpointKeyError,
    CheckpointLoadError,
    CheckpointSignatureError,
    CheckpointVersionError,
)

MAGIC = b"WACKPT\r\n"  # \r\n: a file mangled by newline conversion fails at the first check
FRAME_VERSION = 1
RECORD_FORMAT = "workactors-checkpoint"
RECORD_VERSION = 1
KEY_SIZE = 32
DIGEST_SIZE = hashlib.sha256().digest_size
_HEADER = struct.Struct(">8sHQ")
PREFIX_SIZE = _HEADER.size + DIGEST_SIZE


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What a checkpoint records: the process's pid, its class path and its saved state."""

    pid: int
    class_path: str
    state: Mapping[str, Any]


class CheckpointCodec:
    """Encodes and verifies checkpoints with one key.

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

    @classmethod
    def from_key_file(cls, path: str | os.PathLike[str]) -> CheckpointCodec:
        """A codec with the key in ``path``, which is created (0600) if missing."""
        return cls(load_or_create_key(path))

    def __getstate__(self) -> Any:
        raise TypeError("a CheckpointCodec holds a secret key and is not pickled")

    def __repr__(self) -> str:
        return "<CheckpointCodec>"

    def encode(self, checkpoint: Checkpoint, *, protocol: int = pickle.HIGHEST_PROTOCOL) -> bytes:
        """The signed bytes of ``checkpoint``.

        Raises:
            CheckpointEncodeError: if the state cannot be pickled.
        """
        record = {
            "format": RECORD_FORMAT,
            "version": RECORD_VERSION,
            "class_path": checkpoint.class_path,
            "pid": checkpoint.pid,
            "state": dict(checkpoint.state),
        }
        try:
            payload = pickle.dumps(record, protocol=protocol)
        except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as exc:
            raise CheckpointEncodeError(
                f"cannot checkpoint process {checkpoint.pid} ({checkpoint.class_path}): its state "
                f"is not picklable: {exc}. Keep only picklable data in the state and context"
            ) from exc
        header = _HEADER.pack(MAGIC, FRAME_VERSION, len(payload))
        return header + self._sign(header, payload) + payload

    def decode(self, data: bytes, *, source: str = "<bytes>") -> Checkpoint:
        """Verify ``data`` and return the checkpoint it holds; ``source`` names it in errors.

        Raises:
            CheckpointCorruptError: not a checkpoint, truncated, or a malformed record.
            CheckpointVersionError: a frame or record version this code does not read.
            CheckpointSignatureError: the HMAC does not match (changed, forged, another key).
            CheckpointLoadError: a verified payload names code that no longer exists.
        """
        payload = self._verified_payload(data, source)
        try:
            record = pickle.loads(payload)  # verified by the HMAC above
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
        return _checkpoint_from_record(record, source)

    def read(self, path: str | os.PathLike[str]) -> Checkpoint:
        """Read and ``decode`` the checkpoint file at ``path``.

        Raises:
            FileNotFoundError: if there is no file at ``path``.
            CheckpointError: as ``decode``.
        """
        return self.decode(Path(path).read_bytes(), source=os.fspath(path))

    def _sign(self, header: bytes, payload: bytes) -> bytes:
        mac = hmac.new(self._key, header, hashlib.sha256)
        mac.update(payload)
        return mac.digest()

    def _verified_payload(self, data: bytes, source: str) -> bytes:
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
        if len(data) < PREFIX_SIZE:
            raise CheckpointCorruptError(
                f"checkpoint {source} is truncated ({len(data)} bytes, shorter than its header); "
                "it cannot be resumed: restore it from a backup or discard it"
            )
        header = data[: _HEADER.size]
        _magic, version, length = _HEADER.unpack(header)
        if version != FRAME_VERSION:
            raise CheckpointVersionError(
                f"checkpoint {source} has frame version {version}; this workactors reads version "
                f"{FRAME_VERSION}. Resume it with the workactors version that wrote it"
            )
        expected = PREFIX_SIZE + length
        if len(data) != expected:
            problem = "truncated" if len(data) < expected else "followed by extra bytes"
            raise CheckpointCorruptError(
                f"checkpoint {source} is {problem}: {len(data)} bytes where its header says "
                f"{expected}; it cannot be resumed: restore it from a backup or discard it"
            )
        digest = data[_HEADER.size : PREFIX_SIZE]
        payload = data[PREFIX_SIZE:]
        if not hmac.compare_digest(digest, self._sign(header, payload)):
            raise CheckpointSignatureError(
                f"checkpoint {source} failed its signature check: it was changed after it was "
                "written, forged, or signed with another key file. It was not unpickled; "
                "discard it, or resume it with the key that wrote it"
            )
        return payload


def _checkpoint_from_record(record: Any, source: str) -> Checkpoint:
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        raise CheckpointCorruptError(
            f"checkpoint {source} is signed but holds no workactors checkpoint record; discard it"
        )
    if record.get("version") != RECORD_VERSION:
        raise CheckpointVersionError(
            f"checkpoint {source} holds a record of version {record.get('version')!r}; this "
            f"workactors reads version {RECORD_VERSION}. Resume it with the version that wrote it"
        )
    pid, class_path, state = record.get("pid"), record.get("class_path"), record.get("state")
    if not (isinstance(pid, int) and isinstance(class_path, str) and isinstance(state, dict)):
        raise CheckpointCorruptError(
            f"checkpoint {source} has a malformed record (pid {pid!r}, class path "
            f"{class_path!r}, state of type {type(state).__name__}); discard it"
        )
    return Checkpoint(pid=pid, class_path=class_path, state=state)


def load_or_create_key(path: str | os.PathLike[str]) -> bytes:
    """The key in ``path``; if there is none, a new random key written there first.

    The key file is created with its full content at once (a private temporary file, then
    ``os.link``, which fails if another process created the key first), so that no reader ever
    sees a partial key and concurrent creators agree on one key.

    Raises:
        CheckpointKeyError: if the file is not a private regular file of this user holding
            ``KEY_SIZE`` bytes.
    """
    key_path = Path(os.path.abspath(path))
    try:
        return _read_key(key_path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise CheckpointKeyError(
            f"cannot read the checkpoint key {key_path}: {exc.strerror}; it must be a regular "
            "file of yours (not a link): remove it and let workactors create a new one"
        ) from exc
    make_private_directory(key_path.parent)
    fd, temp_name = tempfile.mkstemp(dir=key_path.parent, prefix=f".{key_path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), PRIVATE_FILE_MODE)
            handle.write(secrets.token_bytes(KEY_SIZE))
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            os.link(temp_name, key_path)
        fsync_directory(key_path.parent)
    except OSError as exc:
        raise CheckpointKeyError(
            f"cannot create the checkpoint key {key_path}: {exc.strerror}; make its folder writable"
        ) from exc
    finally:
        Path(temp_name).unlink(missing_ok=True)
    return _read_key(key_path)


def _read_key(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            raise CheckpointKeyError(
                f"the checkpoint key {path} is not a regular file of yours; anyone who can "
                "write it can forge checkpoints: remove it and let workactors create a new one"
            )
        if info.st_mode & 0o077:
            raise CheckpointKeyError(
                f"the checkpoint key {path} is readable or writable by others (mode "
                f"{stat.S_IMODE(info.st_mode):o}); anyone who can read it can forge checkpoints: "
                f"run chmod 600 {path}"
            )
        key = handle.read(KEY_SIZE + 1)
    if len(key) != KEY_SIZE:
        raise CheckpointKeyError(
            f"the checkpoint key {path} holds {len(key)} bytes, not {KEY_SIZE}; it is damaged. "
            "Remove it (checkpoints signed with it can then not be resumed) to make a new one"
        )
    return key
