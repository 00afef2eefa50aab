"""The exceptions of persistence: one base, ``PersistenceError``, under ``WorkactorsError``.

Locks raise ``LockTimeoutError`` (also a ``TimeoutError``) or ``LockedError``; everything about a
checkpoint file raises a ``CheckpointError``. A checkpoint that is refused on load (tampered,
truncated, foreign, of another version, or naming a class that cannot be imported) is never
executed; ``PicklePersistence.load_all_processes`` moves it to ``failed/`` with the reason.
"""

from __future__ import annotations

from provenance.errors import FencedError, WorkactorsError


class PersistenceError(WorkactorsError):
    """Base of the errors raised by checkpoints and file locks."""


class LockError(PersistenceError):
    """Base of the errors raised by ``RLock``."""


class LockTimeoutError(LockError, TimeoutError):
    """Another owner held the lock for longer than the caller was willing to wait."""


class LockedError(LockError):
    """Another owner holds the lock and the caller asked not to wait (``fail_when_locked``)."""


class LockNotHeldError(LockError, RuntimeError):
    """A lock was released by an owner that does not hold it."""


class CheckpointError(PersistenceError):
    """Base of the errors about a checkpoint file or the key that signs it."""


class CheckpointCorruptError(CheckpointError):
    """A checkpoint is not a whole checkpoint: truncated, foreign (wrong magic) or malformed."""


class CheckpointSignatureError(CheckpointError):
    """A checkpoint's HMAC does not match: it was changed, forged or signed with another key."""


class CheckpointVersionError(CheckpointError):
    """A checkpoint was written in a format version this workactors does not read."""


class CheckpointKeyError(CheckpointError):
    """The key file that signs checkpoints is missing, malformed or not private to this user."""


class CheckpointEncodeError(CheckpointError, TypeError):
    """A process state cannot be pickled into a checkpoint."""


class CheckpointLoadError(CheckpointError):
    """A verified checkpoint could not be turned back into a process (class or nodes missing)."""


class CheckpointWriteError(CheckpointError, OSError):
    """Writing or moving a checkpoint failed; the previous checkpoint file is left intact."""


class CheckpointMissingError(CheckpointError, FileNotFoundError):
    """There is no checkpoint where one was expected (it finished, moved or was never saved)."""


class CheckpointKeyMismatchError(CheckpointSignatureError):
    """A checkpoint was signed with another key than this machine's: the machines sharing a
    database do not share their checkpoint key."""


class LeaseLostError(PersistenceError, FencedError):
    """A worker's claim on a process ended (its lease ran out and another worker took the
    process over): every write it makes for the process is refused, and it drops it."""


class MessageError(PersistenceError, ValueError):
    """Bytes that are no inter-process message this workactors reads: foreign, damaged, of
    another version, or of an unknown type or field. A receiver logs and drops them."""
