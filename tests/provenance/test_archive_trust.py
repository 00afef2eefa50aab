"""What an archive is trusted with: its values, never the hashes caching matches on.

An archive's digests protect against damage, not against a user: anyone can edit a value and
recompute them. An import hashes data from its content and stores processes without a hash, so
that an edited archive cannot pass a forged result off as a cache hit.
"""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from actors import Runtime, enable_caching, workfunction
from provenance import Int
from provenance.archive import create_archive, import_archive, inspect_archive
from provenance.hashing import data_hash
from provenance.models import DbNode
from tests.provenance.test_archive import _rewrite

RUNS: list[int] = []


@workfunction
def double(x: Int) -> Int:
    """Twice x; notes that it ran."""
    RUNS.append(x.value)
    return Int(2 * x.value)


def _forge(members: dict[str, bytes]) -> None:
    """The result 6 becomes 999, its hash left as it was."""
    lines = []
    for line in members["nodes.jsonl"].splitlines():
        node = json.loads(line)
        if node["attributes"] == {"value": 6}:
            node["attributes"] = {"value": 999}
        lines.append(json.dumps(node))
    members["nodes.jsonl"] = ("\n".join(lines) + "\n").encode()


def test_an_edited_archive_cannot_poison_the_cache(tmp_path: Path) -> None:
    with Runtime(tmp_path / "source") as source:
        result, node = double.run_get_node(Int(3))
        assert result.value == 6
        assert node.pk is not None
        good = tmp_path / "good.zip"
        create_archive(good, [node.pk], storage=source.storage)
    forged = _rewrite(good, tmp_path / "forged.zip", _forge)
    assert inspect_archive(good).mismatched_hashes == []
    [mismatched] = inspect_archive(forged).mismatched_hashes

    with Runtime(tmp_path / "target") as target:
        import_archive(forged, storage=target.storage)
        with target.storage.read_session() as session:
            rows = {row.uuid: row for row in session.execute(sa.select(DbNode)).scalars()}
        assert rows[mismatched].attributes == {"value": 999}
        for row in rows.values():
            if row.node_type.startswith("process"):
                assert row.node_hash is None  # never a cache source
            else:
                assert row.node_hash == data_hash(row.node_type, row.attributes)
        RUNS.clear()
        with enable_caching():
            again, rerun = double.run_get_node(Int(3))
        assert again.value == 6
        assert rerun.cached_from is None
        assert RUNS == [3]
