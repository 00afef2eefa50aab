"""``SqliteSelect`` gives the rows SQLAlchemy gives, and sees every commit made before it."""

from __future__ import annotations

from pathlib import Path

from actors import Runtime, workfunction
from actors.caching import _lookup
from provenance import Int
from provenance.raw_reads import SqliteSelect


@workfunction
def split(x: Int) -> dict[str, Int]:
    """Two outputs, so that the lookup joins a row per output."""
    return {"half": Int(x.value // 2), "rest": Int(x.value % 2)}


def test_the_cache_lookup_reads_the_same_rows_as_through_sqlalchemy(tmp_path: Path) -> None:
    with Runtime(home=tmp_path) as runtime:
        _, node = runtime.run_get_node(split, Int(7))
        path = runtime.storage.sqlite_path
        assert path is not None
        params = {"node_hash": node.node_hash, "node_type": node.node_type}
        lookup = SqliteSelect(_lookup(), path)
        try:
            raw = lookup.all(params)
            with runtime.storage.read_engine.connect() as connection:
                through_sqlalchemy = connection.execute(_lookup(), params).all()
        finally:
            lookup.close()

    assert len(raw) == 2
    assert [tuple(row) for row in raw] == [tuple(row) for row in through_sqlalchemy]
    assert [row._fields for row in raw] == [tuple(row._fields) for row in through_sqlalchemy]
    assert {row.link_label for row in raw} == {"half", "rest"}
    assert all(row.attributes["value"] in (3, 1) for row in raw)
    assert raw[0].ctime.tzinfo is not None


def test_a_lookup_connection_sees_what_was_committed_after_it_opened(tmp_path: Path) -> None:
    with Runtime(home=tmp_path) as runtime:
        _, first = runtime.run_get_node(split, Int(7))
        path = runtime.storage.sqlite_path
        assert path is not None
        lookup = SqliteSelect(_lookup(), path)
        try:
            assert lookup.all({"node_hash": first.node_hash, "node_type": first.node_type})
            _, second = runtime.run_get_node(split, Int(9))
            found = lookup.all({"node_hash": second.node_hash, "node_type": second.node_type})
        finally:
            lookup.close()
    assert {row.source_id for row in found} == {second.pk}
