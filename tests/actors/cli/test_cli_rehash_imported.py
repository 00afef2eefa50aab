"""``node rehash`` never makes a process imported from an archive a cache source again.

An import stores processes without a hash and marks every node it creates; a rehash (the CLI
or ``actors.rehash.rehash``) hashes local runs and data, and leaves imported processes
unhashed, removing a hash one was given (by the rehash of an older version, say).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from actors import Runtime, enable_caching, workfunction
from actors.rehash import rehash
from provenance import Int
from provenance.archive import create_archive, import_archive
from provenance.models import DbNode
from provenance.storage import Storage, sqlite_url
from tests.actors.cli.conftest import Cli

RUNS: list[int] = []


@workfunction
def triple(x: Int) -> Int:
    """Three times x; notes that it ran."""
    RUNS.append(x.value)
    return Int(3 * x.value)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the archive is imported: a new SQLite file, then a new PostgreSQL schema."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "target.sqlite")
    url: str = request.getfixturevalue("postgres_url")
    return url


def _archive_of_a_run(tmp_path: Path) -> Path:
    path = tmp_path / "run.zip"
    with Runtime(tmp_path / "source") as source:
        _result, node = triple.run_get_node(Int(4))
        assert node.pk is not None
        create_archive(path, [node.pk], storage=source.storage)
    return path


def _hashes(storage: Storage) -> dict[str, tuple[bool, str | None]]:
    """``(imported, node_hash)`` of every process node, by uuid."""
    query = sa.select(DbNode.uuid, DbNode.imported, DbNode.node_hash).where(
        DbNode.node_type.startswith("process")
    )
    with storage.read_session() as session:
        return {uuid: (imported, node_hash) for uuid, imported, node_hash in session.execute(query)}


def _forge_hash(storage: Storage) -> None:
    """Give imported processes a hash, as a rehash that trusted them did."""
    with storage.write_engine.begin() as connection:
        connection.execute(
            sa.update(DbNode).where(DbNode.imported.is_(True)).values(node_hash="f" * 64)
        )


def test_rehash_leaves_imported_processes_without_a_hash(
    cli: Cli, tmp_path: Path, target_url: str
) -> None:
    archive = _archive_of_a_run(tmp_path)
    home = tmp_path / "home"
    with Runtime(home, database_url=target_url) as target:
        import_archive(archive, storage=target.storage)
        _result, local = triple.run_get_node(Int(5))
        [(imported_uuid, imported_row)] = [
            item for item in _hashes(target.storage).items() if item[1][0]
        ]
        assert imported_row == (True, None)

        _forge_hash(target.storage)
        counts = rehash(target.storage)
        assert (counts.processes, counts.imported) == (1, 1)
        hashes = _hashes(target.storage)
        assert hashes[imported_uuid] == (True, None)
        assert hashes[local.uuid] == (False, local.node_hash)

        RUNS.clear()
        with enable_caching():
            again, rerun = triple.run_get_node(Int(4))
        assert (again.value, rerun.cached_from, RUNS) == (12, None, [4])  # ran: not reused

    _forge_hash(storage := Storage(target_url))
    try:
        result = cli("--database-url", target_url, "node", "rehash", home=home)
        assert result.exit_code == 0, result.output
        assert "1 imported processes left unhashed" in result.stdout
        assert _hashes(storage)[imported_uuid] == (True, None)
    finally:
        storage.dispose()
