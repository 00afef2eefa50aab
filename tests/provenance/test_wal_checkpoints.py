"""WAL checkpoints run by ``WalCheckpointer``, off the writer's commits, on real SQLite files."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from provenance.wal_checkpoints import WalCheckpointer
from tests.provenance.sqlite_files import wal_writer


def _rows_in_the_database_file_alone(path: Path, tmp_path: Path) -> int:
    """Rows a reader finds in the main file without its WAL: what checkpoints moved there."""
    alone = tmp_path / "alone.db"
    shutil.copyfile(path, alone)
    with sqlite3.connect(alone) as connection:
        tables = connection.execute("SELECT name FROM sqlite_master WHERE name = 'rows'").fetchall()
        if not tables:
            return 0
        return int(connection.execute("SELECT count(*) FROM rows").fetchone()[0])


def test_commits_stay_in_the_wal_until_the_checkpointer_moves_them(tmp_path: Path) -> None:
    path = tmp_path / "provenance.db"
    writer = wal_writer(path)
    for value in range(5):
        writer.execute("INSERT INTO rows VALUES (?)", (value,))
    assert _rows_in_the_database_file_alone(path, tmp_path) == 0

    checkpointer = WalCheckpointer(str(path), every=5)
    for _ in range(5):
        checkpointer.committed()
    checkpointer.close()

    assert _rows_in_the_database_file_alone(path, tmp_path) == 5
    writer.close()


def test_closing_checkpoints_what_fewer_commits_than_every_left_in_the_wal(tmp_path: Path) -> None:
    path = tmp_path / "provenance.db"
    writer = wal_writer(path)
    checkpointer = WalCheckpointer(str(path), every=1000)
    for value in range(3):
        writer.execute("INSERT INTO rows VALUES (?)", (value,))
        checkpointer.committed()

    checkpointer.close()

    assert _rows_in_the_database_file_alone(path, tmp_path) == 3
    writer.close()
