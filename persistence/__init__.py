"""Durable processes: reentrant file locks, signed checkpoints and the persistence actor.

Public names are imported on first use: a runtime that checkpoints nothing (a script running
a workfunction) does not import the file locks, the codec or the persistence actor.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from persistence.errors import (  # cheap, and raised by every store
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
from provenance.lazy_imports import lazy_names

if TYPE_CHECKING:
    from persistence.actor import (
        MarkFailed,
        PersistenceActor,
        Release,
        SaveCheckpoint,
        Sync,
    )
    from persistence.atomic import WriteHook, WriteStage, atomic_move, atomic_write
    from persistence.classes import import_class
    from persistence.codec import (
        Checkpoint,
        CheckpointCodec,
        describe_checkpoint,
        load_or_create_key,
    )
    from persistence.envelope import Envelope
    from persistence.folders import CheckpointFolders
    from persistence.lock import LOCK_EX, LOCK_NB, LOCK_SH, RLock
    from persistence.memory_store import InMemoryStore, MemoryCheckpoints
    from persistence.messages import Action, Intent
    from persistence.persistable import PersistableProcess
    from persistence.pickle_persistence import PicklePersistence
    from persistence.store import CheckpointStore, NoNotifier, Notifier, UnreadableHook

#: Where each public name lives: imported on first use (PEP 562).
_HOMES: dict[str, tuple[str, ...]] = {
    "persistence.actor": (
        "MarkFailed",
        "PersistenceActor",
        "Release",
        "SaveCheckpoint",
        "Sync",
    ),
    "persistence.atomic": (
        "WriteHook",
        "WriteStage",
        "atomic_move",
        "atomic_write",
    ),
    "persistence.classes": ("import_class",),
    "persistence.codec": (
        "Checkpoint",
        "CheckpointCodec",
        "describe_checkpoint",
        "load_or_create_key",
    ),
    "persistence.envelope": ("Envelope",),
    "persistence.folders": ("CheckpointFolders",),
    "persistence.lock": (
        "LOCK_EX",
        "LOCK_NB",
        "LOCK_SH",
        "RLock",
    ),
    "persistence.memory_store": (
        "InMemoryStore",
        "MemoryCheckpoints",
    ),
    "persistence.messages": (
        "Action",
        "Intent",
    ),
    "persistence.persistable": ("PersistableProcess",),
    "persistence.pickle_persistence": ("PicklePersistence",),
    "persistence.store": (
        "CheckpointStore",
        "NoNotifier",
        "Notifier",
        "UnreadableHook",
    ),
}
__getattr__, __dir__ = lazy_names(__name__, _HOMES)

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
