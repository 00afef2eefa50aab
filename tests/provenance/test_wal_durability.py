"""``WalDurability``: SQLite commits fsynced once, on a real WAL file, before checkpoints name
them; and the runtime's order "provenance on disk, then checkpoint" seen in its real fsyncs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors import Runtime
from actors.durability import Checkpointed
from provenance import Int
from provenance.wal_durability import WalDurability
from tests.actors.workchains import Double
from tests.helpers import Fsyncs
from tests.provenance.sqlite_files import wal_writer


class Database:
    """A SQLite file in WAL mode, its writer, and the ``WalDurability`` counting its commits."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.wal = Path(f"{path}-wal")
        self.writer = wal_writer(path)
        self.durability = WalDurability(str(path))

    def commit_row(self, value: int) -> None:
        self.writer.execute("INSERT INTO rows VALUES (?)", (value,))
        self.durability.committed()

    def reopen(self) -> None:
        self.writer.close()
        self.writer = sqlite3.connect(self.path, isolation_level=None)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "provenance.db")
    yield database
    database.durability.close()
    database.writer.close()


def test_one_flush_fsyncs_the_wal_for_every_commit_before_it(
    database: Database, fsyncs: Fsyncs
) -> None:
    for value in range(3):
        database.commit_row(value)
    assert database.durability.pending == 3

    database.durability.flush()
    database.durability.flush()  # nothing committed since: nothing to do

    assert fsyncs.names == ["provenance.db-wal"]
    assert database.durability.pending == 0
    database.commit_row(3)
    database.durability.flush()
    assert fsyncs.names == ["provenance.db-wal", "provenance.db-wal"]


def test_without_a_wal_file_every_commit_is_in_the_database_file_already(
    database: Database, fsyncs: Fsyncs
) -> None:
    database.commit_row(1)
    database.writer.close()  # the last connection checkpoints the WAL and removes it
    assert not database.wal.exists()

    database.durability.flush()

    assert fsyncs.names == []
    assert database.durability.pending == 0


def test_a_wal_made_anew_is_the_one_fsynced(database: Database, fsyncs: Fsyncs) -> None:
    database.commit_row(1)
    database.durability.flush()
    database.reopen()  # the WAL is removed and made anew by the next commit
    database.commit_row(2)

    database.durability.flush()

    assert fsyncs.names == ["provenance.db-wal", "provenance.db-wal"]
    status = database.wal.stat()
    assert database.durability._file_id == (status.st_dev, status.st_ino)


def _is_checkpoint(name: str) -> bool:
    """A checkpoint's temporary file (``.<pid>.pickle.<suffix>.tmp``), fsynced before its move."""
    return ".pickle." in name and name.endswith(".tmp")


def test_each_checkpoint_is_written_after_the_provenance_it_names_is_on_disk(
    home: Path, fsyncs: Fsyncs
) -> None:
    with Runtime(home, durability=Checkpointed()) as runtime:
        assert runtime.run(Double, x=Int(3))["y"].value == 6
        runtime.queue_up_many([(Double, {"x": Int(1)})])

    checkpoints = [i for i, name in enumerate(fsyncs.names) if _is_checkpoint(name)]
    assert len(checkpoints) == 3  # the run's first and its step's, then the submission's
    for index in checkpoints:
        assert fsyncs.names[index - 1] == "provenance.sqlite-wal", fsyncs.names


def test_a_program_that_checkpoints_nothing_never_fsyncs_its_commits(
    runtime: Runtime, fsyncs: Fsyncs
) -> None:
    for x in range(5):
        assert runtime.run(Double, x=Int(x))["y"].value == 2 * x

    assert fsyncs.of("-wal") == []


def test_others_commits_are_fsynced_when_asked_for_though_none_was_counted_here(
    database: Database, fsyncs: Fsyncs
) -> None:
    """Another program's commits are not counted here: an end stored by a worker that died
    before retiring its checkpoint is made durable before the checkpoint is retired."""
    other = sqlite3.connect(database.path, isolation_level=None)
    other.execute("INSERT INTO rows VALUES (1)")
    other.close()

    database.durability.flush()
    assert fsyncs.names == []
    database.durability.flush(others_too=True)

    assert fsyncs.names == ["provenance.db-wal"]
