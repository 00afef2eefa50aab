"""Fixtures of the daemon tests: a home whose daemon is stopped afterwards, a marks folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from actors.daemon import stop_daemon

STOP_TIMEOUT = 60.0


@pytest.fixture
def daemon_home(home: Path) -> Iterator[Path]:
    """A home whose daemon, if the test starts one, is stopped after it."""
    yield home
    stop_daemon(home, timeout=STOP_TIMEOUT)


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    """Where ``Marked`` processes leave their marks."""
    folder = tmp_path / "marks"
    folder.mkdir()
    return folder
