"""Real SQLite files in WAL mode for the tests of the provenance actor's SQLite helpers."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def wal_writer(path: Path) -> sqlite3.Connection:
    """A WAL writer as the provenance actor's: commits not fsynced (``synchronous = NORMAL``)
    and never checkpointing by itself; with one table, ``rows (value)``."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA wal_autocheckpoint = 0")
    connection.execute("CREATE TABLE rows (value INTEGER)")
    return connection
