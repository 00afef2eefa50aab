"""The persistence errors: one base under ``WorkactorsError``, builtins where expected."""

from __future__ import annotations

import pytest

from persistence import (
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
    PersistenceError,
)
from provenance import WorkactorsError


def test_the_persistence_base_is_a_workactors_error() -> None:
    assert issubclass(PersistenceError, WorkactorsError)


@pytest.mark.parametrize(
    ("error", "bases"),
    [
        (LockTimeoutError, (LockError, TimeoutError)),
        (LockedError, (LockError,)),
        (LockNotHeldError, (LockError, RuntimeError)),
        (CheckpointCorruptError, (CheckpointError,)),
        (CheckpointSignatureError, (CheckpointError,)),
        (CheckpointVersionError, (CheckpointError,)),
        (CheckpointKeyError, (CheckpointError,)),
        (CheckpointEncodeError, (CheckpointError, TypeError)),
        (CheckpointLoadError, (CheckpointError,)),
        (CheckpointMissingError, (CheckpointError, FileNotFoundError)),
        (CheckpointWriteError, (CheckpointError, OSError)),
    ],
)
def test_each_error_is_a_persistence_error_and_what_callers_expect(
    error: type[Exception], bases: tuple[type[Exception], ...]
) -> None:
    assert issubclass(error, PersistenceError)
    for base in bases:
        assert issubclass(error, base)
    assert str(error("what went wrong, where, what to do")) == "what went wrong, where, what to do"
