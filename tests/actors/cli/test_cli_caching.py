"""``process list`` marks cached runs; ``node rehash`` restores hashes."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from actors import Runtime, enable_caching
from provenance import Int, load_node
from provenance.models import DbNode
from tests.actors.cli.conftest import Cli, add


def test_cached_runs_are_marked_and_rehash_restores_lost_hashes(cli: Cli, tmp_path: Path) -> None:
    with Runtime(tmp_path / "home") as runtime:
        _result, source = add.run_get_node(Int(1), Int(2))
        with enable_caching():
            _result, cached = add.run_get_node(Int(1), Int(2))
        home = runtime.home
        hashes = {node.pk: node.node_hash for node in (source, cached)}
        with runtime.storage.write_engine.begin() as connection:
            connection.execute(sa.update(DbNode).values(node_hash=None))
    listed = {p["pk"]: p for p in json.loads(cli("process", "list", "--json", home=home).stdout)}
    assert listed[cached.pk]["cached_from"] == source.uuid
    assert listed[source.pk]["cached_from"] is None
    table = cli("process", "list", home=home).stdout
    assert table.count("finished (cached)") == 1
    shown = cli("process", "show", str(cached.pk), home=home).stdout
    [line] = [line for line in shown.splitlines() if line.startswith("cached from")]
    assert line.split() == ["cached", "from", source.uuid]

    result = cli("node", "rehash", home=home)
    assert result.exit_code == 0, result.output
    assert "Rehashed 6 data nodes and 2 processes" in result.stdout
    with Runtime(home):
        assert {pk: load_node(pk).node_hash for pk in hashes} == hashes
    only = cli("node", "rehash", str(source.pk), home=home)
    assert "Rehashed 0 data nodes and 1 processes" in only.stdout


def test_rehashing_a_missing_node_is_an_error_and_rehashes_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    with Runtime(tmp_path / "home") as runtime:
        stored = Int(5).store()
        assert stored.pk is not None
        home = runtime.home
        with runtime.storage.write_engine.begin() as connection:
            connection.execute(sa.update(DbNode).values(node_hash=None))
    for arguments in (["999999"], [str(stored.pk), "999999"]):
        result = cli("node", "rehash", *arguments, home=home)
        assert result.exit_code == 1, result.output
        [line] = result.stderr.splitlines()
        assert "no node with pk 999999" in line
        assert "nothing was rehashed" in line
    with Runtime(home):
        assert load_node(stored.pk).node_hash is None
