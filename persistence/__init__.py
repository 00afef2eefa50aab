"""Durable processes: reentrant file locks, signed checkpoints and the persistence actor."""

from persistence.actor import (
    MarkFailed,
    PersistenceActor,
    Release,
    SaveCheckpoint,
    Sync,
)
from persistence.atomic import WriteHook, WriteStage, atomic_move, atomic_write
from persistence.classes import import_class
from persistence.codec import Checkpoint, CheckpointCodec, describe_checkpoint, load_or_create_key
from persistence.envelope import Envelope
from persistence.errors import (
    CheckpointCorruptError,
    CheckpointEncodeError,
    CheckpointError,
    CheckpointKeyError,
    CheckpointLoadError,
    CheckpointMissingError,
    CheckpointSignatureError,
    CheckpointVersionError,
    CheckpointWriteError,
    LockedError,
    LockError,
    LockNotHeldError,
    LockTimeoutError,
    MessageError,
    PersistenceError,
)
from persistence.folders import CheckpointFolders
from persistence.lock import LOCK_EX, LOCK_NB, LOCK_SH, RLock
from persistence.memory_store import InMemoryStore, MemoryCheckpoints
from persistence.messages import Action, Intent
from persistence.pickle_persistence import PersistableProcess, PicklePersistence
from persistence.store import CheckpointStore, NoNotifier, Notifier, UnreadableHook

__all__ = [
    "LOCK_EX",
    "LOCK_NB",
    "LOCK_SH",
    "Action",
    "Checkpoint",
    "CheckpointCodec",
    "CheckpointCorruptError",
    "CheckpointEncodeError",
    "CheckpointError",
    "CheckpointFolders",
    "CheckpointKeyError",
    "CheckpointLoadError",
    "CheckpointMissingError",
    "CheckpointSignatureError",
    "CheckpointStore",
    "CheckpointVersionError",
    "CheckpointWriteError",
    "Envelope",
    "InMemoryStore",
    "Intent",
    "LockError",
    "LockNotHeldError",
    "LockTimeoutError",
    "LockedError",
    "MarkFailed",
    "MemoryCheckpoints",
    "MessageError",
    "NoNotifier",
    "Notifier",
    "PersistableProcess",
    "PersistenceActor",
    "PersistenceError",
    "PicklePersistence",
    "RLock",
    "Release",
    "SaveCheckpoint",
    "Sync",
    "UnreadableHook",
    "WriteHook",
    "WriteStage",
    "atomic_move",
    "atomic_write",
    "describe_checkpoint",
    "import_class",
    "load_or_create_key",
]
