"""Archives: export, import by uuid, the SQLite -> PostgreSQL -> SQLite round trip, bad files.

``Outer`` (the CLI tests' ``Parent``) reports, runs a ``Child`` that reports and calls a
workfunction: CALL links two levels deep, and logs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from actors import Runtime
from provenance import ArchiveError, Group, Int, NotExistentError, Str
from provenance.archive import create_archive, import_archive, inspect_archive
from provenance.archive.reader import MAX_RATIO
from provenance.models import DbGroup, DbLink, DbLog, DbNode, group_node
from provenance.storage import Storage, sqlite_url
from tests.actors.cli.conftest import Parent as Outer

Dump = dict[str, Any]


def dump(storage: Storage) -> Dump:
    """Everything the database holds, keyed by uuid (pks differ between databases)."""
    with storage.read_session() as session:
        nodes = {
            row.uuid: (
                row.node_type,
                row.label,
                row.description,
                row.attributes,
                row.ctime,
                row.mtime,
                row.node_hash,
            )
            for row in session.execute(sa.select(DbNode)).scalars()
        }
        uuid_of = dict(session.execute(sa.select(DbNode.id, DbNode.uuid)).all())
        links = sorted(
            (uuid_of[link.input_id], uuid_of[link.output_id], link.link_type, link.label)
            for link in session.execute(sa.select(DbLink)).scalars()
        )
        logs = sorted(
            (
                uuid_of[entry.node_id],
                entry.time,
                entry.levelname,
                entry.loggername,
                entry.message,
                json.dumps(entry.meta, sort_keys=True),
            )
            for entry in session.execute(sa.select(DbLog)).scalars()
        )
        groups = {
            group.uuid: (
                group.label,
                group.type_string,
                group.description,
                group.time,
                frozenset(
                    uuid_of[pk]
                    for pk in session.execute(
                        sa.select(group_node.c.node_id).where(group_node.c.group_id == group.id)
                    ).scalars()
                ),
            )
            for group in session.execute(sa.select(DbGroup)).scalars()
        }
    return {"nodes": nodes, "links": links, "logs": logs, "groups": groups}


def _utc(dumped: Dump) -> Dump:
    """Times compared as UTC instants (PostgreSQL and SQLite give different tzinfo objects)."""

    def fix(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC)
        if isinstance(value, tuple):
            return tuple(fix(item) for item in value)
        return value

    return {
        "nodes": {key: fix(value) for key, value in dumped["nodes"].items()},
        "links": dumped["links"],
        "logs": sorted(fix(entry) for entry in dumped["logs"]),
        "groups": {key: fix(value) for key, value in dumped["groups"].items()},
    }


def _populate(rt: Runtime) -> dict[str, int]:
    _out, outer = rt.run_get_node(Outer, x=Int(5))
    lonely = Str("not exported").store()
    text = Str("in a group", label="member").store()
    group, _created = Group.get_or_create("shared")
    group.add_nodes([text])
    assert outer.pk is not None
    assert lonely.pk is not None
    return {"outer": outer.pk, "lonely": lonely.pk}


def test_a_round_trip_sqlite_postgresql_sqlite_keeps_everything(
    home: Path, postgres_url: str, tmp_path: Path
) -> None:
    with Runtime(home) as rt:
        pks = _populate(rt)
        source = rt.storage
        first = tmp_path / "first.zip"
        counts = create_archive(first, [pks["outer"]], ["shared"], storage=source)
        expected = dump(source)
        lonely = next(
            uuid for uuid, node in expected["nodes"].items() if node[3] == {"value": "not exported"}
        )
        del expected["nodes"][lonely]
        # An imported run is never a cache source: its hash is not imported.
        expected["nodes"] = {
            uuid: (*node[:6], None if node[0].startswith("process") else node[6])
            for uuid, node in expected["nodes"].items()
        }
        assert counts.nodes == len(expected["nodes"])
        assert counts.logs == len(expected["logs"]) >= 2
    postgres = Storage(postgres_url)
    back = Storage(sqlite_url(tmp_path / "back.sqlite"))
    try:
        import_archive(first, storage=postgres)
        assert _utc(dump(postgres)) == _utc(expected)
        second = tmp_path / "second.zip"
        with postgres.read_session() as session:
            all_pks = list(session.execute(sa.select(DbNode.id)).scalars())
        create_archive(second, all_pks, ["shared"], storage=postgres)
        import_archive(second, storage=back)
        assert _utc(dump(back)) == _utc(expected)
    finally:
        postgres.dispose()
        back.dispose()


def test_importing_twice_adds_nothing_and_a_conflict_changes_nothing(
    runtime: Runtime, tmp_path: Path
) -> None:
    pks = _populate(runtime)
    archive = tmp_path / "a.zip"
    create_archive(archive, [pks["outer"]], ["shared"], storage=runtime.storage)
    target = Storage(sqlite_url(tmp_path / "target.sqlite"))
    try:
        first = import_archive(archive, storage=target)
        assert first.nodes > 0
        assert first.groups == 1
        before = dump(target)
        again = import_archive(archive, storage=target)
        assert (again.nodes, again.links, again.logs, again.groups) == (0, 0, 0, 0)
        assert dump(target) == before
        some_uuid = sorted(before["nodes"])[0]
        with target.write_engine.begin() as connection:
            connection.execute(
                sa.update(DbNode).where(DbNode.uuid == some_uuid).values(label="edited here")
            )
        changed = dump(target)
        with pytest.raises(ArchiveError, match=f"{some_uuid} .*label differ.*Nothing was imported"):
            import_archive(archive, storage=target)
        assert dump(target) == changed
    finally:
        target.dispose()


def test_calls_and_callers_are_followed_as_asked(runtime: Runtime, tmp_path: Path) -> None:
    _out, outer = runtime.run_get_node(Outer, x=Int(2))
    [reporter] = outer.called
    [adder] = reporter.called
    assert reporter.pk is not None
    assert outer.pk is not None
    assert adder.pk is not None

    def exported(name: str, pk: int, **options: bool) -> set[str]:
        path = tmp_path / name
        create_archive(path, [pk], storage=runtime.storage, **options)
        with zipfile.ZipFile(path) as archive:
            return {json.loads(line)["uuid"] for line in archive.read("nodes.jsonl").splitlines()}

    with_calls = exported("calls.zip", outer.pk)
    assert {reporter.uuid, adder.uuid} <= with_calls
    without = exported("none.zip", outer.pk, include_calls=False)
    assert reporter.uuid not in without
    callers = exported("callers.zip", adder.pk, include_callers=True, include_calls=False)
    assert {reporter.uuid, outer.uuid} <= callers
    alone = exported("alone.zip", adder.pk, include_calls=False)
    assert outer.uuid not in alone


def test_exporting_a_missing_pk_or_group_writes_nothing(runtime: Runtime, tmp_path: Path) -> None:
    with pytest.raises(NotExistentError, match="no node with pk 424242"):
        create_archive(tmp_path / "x.zip", [424242], storage=runtime.storage)
    with pytest.raises(NotExistentError, match="no group labelled 'nope'"):
        create_archive(tmp_path / "x.zip", [], ["nope"], storage=runtime.storage)
    assert not [path for path in tmp_path.iterdir() if "x.zip" in path.name]


# Bad archives.


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rewrite(
    path: Path, target: Path, change: Callable[[dict[str, bytes]], None], *, digests: bool = True
) -> Path:
    members = _members(path)
    change(members)
    if digests and "metadata.json" in members:
        metadata = json.loads(members["metadata.json"])
        metadata["sha256"] = {
            name: hashlib.sha256(members[name]).hexdigest()
            for name in metadata["sha256"]
            if name in members
        }
        members["metadata.json"] = json.dumps(metadata).encode()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def _metadata(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, bytes]], None]:
    def apply(members: dict[str, bytes]) -> None:
        metadata = json.loads(members["metadata.json"])
        change(metadata)
        members["metadata.json"] = json.dumps(metadata).encode()

    return apply


def _append(name: str, record: dict[str, Any]) -> Callable[[dict[str, bytes]], None]:
    def apply(members: dict[str, bytes]) -> None:
        members[name] += (json.dumps(record) + "\n").encode()

    return apply


def _edit_process(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, bytes]], None]:
    """Apply ``change`` to the first process node's record."""

    def apply(members: dict[str, bytes]) -> None:
        nodes = [json.loads(line) for line in members["nodes.jsonl"].splitlines()]
        change(next(node for node in nodes if node["node_type"].startswith("process")))
        members["nodes.jsonl"] = "".join(json.dumps(node) + "\n" for node in nodes).encode()

    return apply


DANGLING = "00000000-0000-4000-8000-00000000dead"
BAD_ARCHIVES: list[tuple[str, Callable[[Path, Path], Path], str]] = [
    (
        "truncated",
        lambda good, bad: bad.write_bytes(good.read_bytes()[:-200]) and bad,
        "not a readable zip",
    ),
    ("not a zip", lambda good, bad: bad.write_text("hello") and bad, "not a readable zip"),
    (
        "wrong version",
        lambda good, bad: _rewrite(good, bad, _metadata(lambda m: m.update(version=99))),
        "format version 99; this workactors reads version 1",
    ),
    (
        "another format",
        lambda good, bad: _rewrite(good, bad, _metadata(lambda m: m.update(format="zip"))),
        "is not a workactors archive",
    ),
    (
        "dangling link",
        lambda good, bad: _rewrite(
            good,
            bad,
            _append(
                "links.jsonl",
                {"input": DANGLING, "output": DANGLING, "type": "input", "label": "x"},
            ),
        ),
        "not in the archive \\(a dangling link\\)",
    ),
    (
        "edited member",
        lambda good, bad: _rewrite(
            good, bad, _append("nodes.jsonl", {"uuid": DANGLING}), digests=False
        ),
        "does not match its digest",
    ),
    (
        "bad record",
        lambda good, bad: _rewrite(good, bad, _append("nodes.jsonl", {"uuid": DANGLING})),
        "nodes.jsonl line .*expected the keys",
    ),
    (
        "bogus process state",
        lambda good, bad: _rewrite(
            good, bad, _edit_process(lambda n: n["attributes"].update(process_state="bogus"))
        ),
        "nodes.jsonl line .*process_state 'bogus' is not one of",
    ),
    (
        "text exit status",
        lambda good, bad: _rewrite(
            good, bad, _edit_process(lambda n: n["attributes"].update(exit_status="abc"))
        ),
        "nodes.jsonl line .*exit_status 'abc' is not an integer",
    ),
    (
        "empty node type",
        lambda good, bad: _rewrite(good, bad, _edit_process(lambda n: n.update(node_type=""))),
        "nodes.jsonl line .*node_type is empty",
    ),
    (
        "path escape",
        lambda good, bad: _rewrite(good, bad, lambda m: m.update({"../escape.txt": b"x"})),
        "would escape the archive's folder",
    ),
    (
        "unknown member",
        lambda good, bad: _rewrite(good, bad, lambda m: m.update({"extra.bin": b"x"})),
        "unexpected members \\['extra.bin'\\]",
    ),
    (
        "zip bomb",
        lambda good, bad: _rewrite(
            good, bad, lambda m: m.update({"logs.jsonl": b" " * (MAX_RATIO * 2**16)})
        ),
        "refusing a zip bomb",
    ),
]


@pytest.mark.parametrize(
    ("make", "message"),
    [(make, message) for _name, make, message in BAD_ARCHIVES],
    ids=[name for name, _make, _message in BAD_ARCHIVES],
)
def test_a_bad_archive_is_a_clear_error_and_changes_nothing(
    runtime: Runtime, tmp_path: Path, make: Callable[[Path, Path], Path], message: str
) -> None:
    pks = _populate(runtime)
    good = tmp_path / "good.zip"
    create_archive(good, [pks["outer"]], ["shared"], storage=runtime.storage)
    bad = make(good, tmp_path / "bad.zip")
    target = Storage(sqlite_url(tmp_path / "target.sqlite"))
    try:
        assert_refused(bad, target, message)
    finally:
        target.dispose()


def assert_refused(bad: Path, target: Storage, message: str) -> None:
    """Importing and inspecting ``bad`` fail with ``message``, and ``target`` is unchanged."""
    before = dump(target)
    with pytest.raises(ArchiveError, match=message):
        import_archive(bad, storage=target)
    with pytest.raises(ArchiveError, match=message):
        inspect_archive(bad)
    assert dump(target) == before


def test_inspect_says_what_an_archive_holds(runtime: Runtime, tmp_path: Path) -> None:
    pks = _populate(runtime)
    path = tmp_path / "a.zip"
    counts = create_archive(path, [pks["outer"]], ["shared"], storage=runtime.storage)
    info = inspect_archive(path)
    assert info.version == 1
    assert info.counts == counts
    assert info.groups == ["shared"]
    assert info.node_types["process.calculation"] == 2
    assert info.as_json()["counts"]["nodes"] == counts.nodes
