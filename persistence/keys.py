"""The checkpoint signing key: 32 or more random bytes in a file private to the user (0600).

workactors creates keys of ``KEY_SIZE`` bytes; a key file made by the user for several machines
(``head -c 64 /dev/urandom``) may be longer, up to ``MAX_KEY_SIZE``: HMAC takes any length, and
a longer key is no weaker. Fewer than ``KEY_SIZE`` bytes is a damaged or guessable key.

Whoever can read the key can write checkpoints that workactors loads, and so run code as this
user: the file is created with its full content at once, and refused when it is a link, another
user's, or readable or writable by others.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
from pathlib import Path

from persistence.atomic import PRIVATE_FILE_MODE, fsync_directory, make_private_directory
from persistence.errors import CheckpointKeyError

KEY_SIZE = 32
MAX_KEY_SIZE = 4096


def load_or_create_key(path: str | os.PathLike[str]) -> bytes:
    """The key in ``path``; if there is none, a new random key written there first.

    The key file is created with its full content at once (a private temporary file, then
    ``os.link``, which fails if another process created the key first), so that no reader ever
    sees a partial key and concurrent creators agree on one key.

    Raises:
        CheckpointKeyError: if the file is not a private regular file of this user holding
            ``KEY_SIZE`` to ``MAX_KEY_SIZE`` bytes.
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


def read_key(path: str | os.PathLike[str]) -> bytes:
    """The key in ``path``, which must exist (reading never creates one).

    Raises:
        CheckpointKeyError: if there is no key there, or it is not a private regular file of
            this user holding ``KEY_SIZE`` to ``MAX_KEY_SIZE`` bytes.
    """
    key_path = Path(os.path.abspath(path))
    try:
        return _read_key(key_path)
    except OSError as exc:
        raise CheckpointKeyError(
            f"cannot read the checkpoint key {key_path}: {exc.strerror}; checkpoints are "
            "verified with the key file of the home that wrote them"
        ) from exc


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
        key = handle.read(MAX_KEY_SIZE + 1)
    if len(key) < KEY_SIZE:
        raise CheckpointKeyError(
            f"the checkpoint key {path} holds {len(key)} bytes, fewer than {KEY_SIZE}; it is "
            "damaged. Remove it (checkpoints signed with it can then not be resumed) to make a "
            f"new one, or write {KEY_SIZE} or more random bytes to it"
        )
    if len(key) > MAX_KEY_SIZE:
        raise CheckpointKeyError(
            f"the checkpoint key {path} holds more than {MAX_KEY_SIZE} bytes: it is not a key "
            f"file. Point WORKACTORS_CHECKPOINT_KEY_FILE at a file of {KEY_SIZE} to "
            f"{MAX_KEY_SIZE} random bytes"
        )
    return key
