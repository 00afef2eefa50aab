"""``create_archive`` takes nodes as the CLI and ``load_node`` do, and refuses an empty export."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from actors import Runtime
from provenance import ArchiveError, Group, Int, NotExistentError, Str, load_node
from provenance.archive import create_archive
from tests.actors.cli.conftest import Parent


def _uuids(path: Path) -> set[str]:
    with zipfile.ZipFile(path) as archive:
        return {json.loads(line)["uuid"] for line in archive.read("nodes.jsonl").splitlines()}


def test_nodes_are_pks_uuids_prefixes_or_nodes(runtime: Runtime, tmp_path: Path) -> None:
    _out, parent = runtime.run_get_node(Parent, x=Int(4))
    assert parent.pk is not None
    by_pk = tmp_path / "pk.zip"
    create_archive(by_pk, [parent.pk], storage=runtime.storage)
    expected = _uuids(by_pk)
    assert parent.uuid in expected
    for name, nodes in [
        ("uuid", [parent.uuid]),
        ("prefix", [parent.uuid[:8]]),
        ("node", [load_node(parent.pk)]),
        ("one prefix", parent.uuid[:8]),
        ("one node", parent),
        ("digits", [str(parent.pk)]),
    ]:
        path = tmp_path / f"{name}.zip"
        create_archive(path, nodes, storage=runtime.storage)
        assert _uuids(path) == expected, name


def test_a_str_names_one_group(runtime: Runtime, tmp_path: Path) -> None:
    member = Str("grouped").store()
    Group.get_or_create("results")[0].add_nodes([member])
    path = tmp_path / "group.zip"
    counts = create_archive(path, groups="results", storage=runtime.storage)
    assert (counts.nodes, counts.groups) == (1, 1)
    assert _uuids(path) == {member.uuid}


def test_bad_selections_are_clear_errors_and_write_nothing(
    runtime: Runtime, tmp_path: Path
) -> None:
    stored = Int(1).store()
    target = tmp_path / "x.zip"
    for nodes, groups, error, message in [
        ((), (), ArchiveError, "nothing to export: give nodes or groups"),
        ([Int(2)], (), ArchiveError, "is not stored; store it before exporting it"),
        ([2**64], (), NotExistentError, f"no node with pk {2**64}"),
        (["ffffffff"], (), NotExistentError, "no node with uuid prefix 'ffffffff'"),
        ([stored, 3.5], (), TypeError, "not 3.5"),
        ([stored], "nope", NotExistentError, "no group labelled 'nope'"),
    ]:
        with pytest.raises(error, match=message):
            create_archive(target, nodes, groups, storage=runtime.storage)  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        create_archive(tmp_path / "none" / "x.zip", [stored], storage=runtime.storage)
    assert not [path for path in tmp_path.iterdir() if "x.zip" in path.name]
