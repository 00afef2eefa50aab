"""Fixtures of the persistence tests: a checkpoint folder, a persistence, a umask of 0."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from persistence import PicklePersistence


@pytest.fixture
def basedir(tmp_path: Path) -> Path:
    """Where a persistence keeps its folders and key (created by the persistence)."""
    return tmp_path / "checkpoints"


@pytest.fixture
def persistence(basedir: Path) -> Iterator[PicklePersistence]:
    """A persistence on ``basedir``; every lock it holds is released afterwards."""
    store = PicklePersistence.create_from_basedir(basedir, lock_timeout=0.2)
    yield store
    store.release_all()


@pytest.fixture
def no_umask() -> Iterator[None]:
    """Run with umask 0, so that any permission that is not set explicitly shows."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)
