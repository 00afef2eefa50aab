"""Helpers of the persistence tests."""

from __future__ import annotations

import os
from pathlib import Path


def mode_of(path: Path | str) -> int:
    """The permission bits of ``path``."""
    return os.stat(path).st_mode & 0o777
