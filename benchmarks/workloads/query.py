"""The ``query`` workloads: reading provenance back, reusing it and sharing it.

- ``query_list``: the filtered ``process list`` query (finished, one class, exit status 0, the
  newest 50) over a database of ``batch`` processes (100,000; 10,000 with ``--quick``), each with
  an input and an output, created once by the setup with bulk inserts (not timed).
- ``query_ancestors``: ``with_ancestors`` from the root of a five-level provenance tree (data ->
  process -> data ... five processes deep, fanning out by 4), in the same kind of database.
- ``cache_hit``: ``add(i % 10, 1)`` with caching on: after the setup ran each once, every
  iteration is a cache hit; compare with ``workfunction_add``, the same call run blockingly.
- ``archive_roundtrip``: export ``archive_nodes`` nodes (10,000) to an archive and import it
  into a new SQLite database.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import uuid as uuid_module
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa

from actors import Runtime, enable_caching, workfunction
from benchmarks.workloads.base import Kind, Workload, no_teardown
from provenance import Int, ProcessNode, QueryBuilder
from provenance.archive import create_archive, import_archive
from provenance.models import DbLink, DbNode
from provenance.storage import Storage, sqlite_url

PROCESSES = 100_000
QUICK_PROCESSES = 10_000
ARCHIVE_PROCESSES = 3_334  # a process, its input and its output: 10,002 nodes
QUICK_ARCHIVE_PROCESSES = 1_000  # 3,002 nodes: --quick stays under a minute
CLASSES = ("pkg.calc.Square", "pkg.calc.Relax", "pkg.chains.Band", "pkg.chains.Phonons")
STATES = ("finished", "finished", "finished", "excepted", "killed")
TREE_DEPTH = 5
TREE_FANOUT = 4
INSERT_CHUNK = 5_000


@workfunction
def add(a: Int, b: Int) -> Int:
    """The ``workfunction_add`` sum, cached here."""
    return cast(Int, a + b)


def _node(node_type: str, attributes: dict[str, Any], ctime: dt.datetime) -> dict[str, Any]:
    return {
        "uuid": str(uuid_module.uuid4()),
        "node_type": node_type,
        "label": "",
        "description": "",
        "attributes": attributes,
        "ctime": ctime,
        "mtime": ctime,
        "node_hash": None,
    }


def _insert(
    storage: Storage, nodes: list[dict[str, Any]], links: list[tuple[int, int, str]]
) -> list[int]:
    """Insert ``nodes`` and the links between them (indices into ``nodes``); return the pks."""
    pks: list[int] = []
    with storage.write_engine.begin() as connection:
        for start in range(0, len(nodes), INSERT_CHUNK):
            batch = nodes[start : start + INSERT_CHUNK]
            result = connection.execute(
                sa.insert(DbNode).returning(DbNode.id, sort_by_parameter_order=True), batch
            )
            pks.extend(row[0] for row in result)
        rows = [
            {
                "input_id": pks[source],
                "output_id": pks[target],
                "link_type": link_type,
                "label": "x",
            }
            for source, target, link_type in links
        ]
        for start in range(0, len(rows), INSERT_CHUNK):
            connection.execute(sa.insert(DbLink), rows[start : start + INSERT_CHUNK])
    return pks


def populate_processes(storage: Storage, count: int) -> None:
    """``count`` processes, each with one Int input and one Int output, over the last 30 days."""
    now = dt.datetime.now(dt.UTC)
    nodes: list[dict[str, Any]] = []
    links: list[tuple[int, int, str]] = []
    for i in range(count):
        ctime = now - dt.timedelta(seconds=(count - i) * 25)
        state = STATES[i % len(STATES)]
        attributes: dict[str, Any] = {
            "process_label": CLASSES[i % len(CLASSES)].rsplit(".", 1)[1],
            "process_class": CLASSES[i % len(CLASSES)],
            "process_state": state,
        }
        if state == "finished":
            attributes["exit_status"] = 0 if i % 7 else 300
        base = len(nodes)
        nodes.append(_node("data.int", {"value": i}, ctime))
        nodes.append(_node("process.calculation", attributes, ctime))
        nodes.append(_node("data.int", {"value": i * i}, ctime))
        links.append((base, base + 1, "input"))
        links.append((base + 1, base + 2, "create"))
    _insert(storage, nodes, links)


def _list_setup(runtime: Runtime, count: int) -> Runtime:
    populate_processes(runtime.storage, count)
    return runtime


def _list_once(runtime: Runtime, _i: int) -> None:
    query = QueryBuilder(storage=runtime.storage).append(
        ProcessNode,
        tag="p",
        filters={
            "attributes.process_state": "finished",
            "attributes.process_class": "pkg.calc.Relax",
            "attributes.exit_status": 0,
        },
        project=["id", "uuid", "node_type", "label", "attributes", "ctime", "mtime"],
    )
    rows = query.order_by({"p": {"id": "desc"}}).limit(50).all()
    if len(rows) != 50:
        raise RuntimeError(f"the filtered list found {len(rows)} processes, not 50")


def _tree_setup(runtime: Runtime, count: int) -> tuple[Runtime, int, int]:
    populate_processes(runtime.storage, count)
    now = dt.datetime.now(dt.UTC)
    nodes = [_node("data.int", {"value": -1}, now)]
    links: list[tuple[int, int, str]] = []
    level = [0]
    for _depth in range(TREE_DEPTH):
        next_level = []
        for parent in level:
            for _child in range(TREE_FANOUT if len(level) < 64 else 1):
                process, output = len(nodes), len(nodes) + 1
                nodes.append(_node("process.calculation", {"process_state": "finished"}, now))
                nodes.append(_node("data.int", {"value": process}, now))
                links += [(parent, process, "input"), (process, output, "create")]
                next_level.append(output)
        level = next_level
    pks = _insert(runtime.storage, nodes, links)
    return runtime, pks[0], len(nodes) - 1


def _ancestors_once(state: tuple[Runtime, int, int], _i: int) -> None:
    runtime, root, expected = state
    query = QueryBuilder(storage=runtime.storage).append(Int, tag="root", filters={"id": root})
    query.append(ProcessNode, with_ancestors="root", project="id")
    found = query.count()
    if found != (expected // 2):
        raise RuntimeError(
            f"with_ancestors found {found} processes below the root, not {expected // 2}"
        )


def _cache_setup(runtime: Runtime) -> Runtime:
    for i in range(10):
        runtime.run(add, Int(i), Int(1))
    return runtime


def _cache_once(runtime: Runtime, i: int) -> None:
    with enable_caching(add.process_class.class_path()):
        result, node = runtime.run_get_node(add, Int(i % 10), Int(1))
    if result.value != i % 10 + 1 or node.cached_from is None:
        raise RuntimeError(f"add({i % 10}, 1) was not a cache hit")


def _archive_setup(runtime: Runtime, processes: int) -> tuple[Runtime, list[int]]:
    populate_processes(runtime.storage, processes)
    query = QueryBuilder(storage=runtime.storage).append(ProcessNode, project="id")
    return runtime, list(query.all(flat=True))


def _archive_once(state: tuple[Runtime, list[int]], i: int) -> None:
    runtime, pks = state
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export-{i}.zip"
        counts = create_archive(path, pks, storage=runtime.storage)
        target = Storage(sqlite_url(Path(folder) / "target.sqlite"))
        try:
            added = import_archive(path, storage=target)
        finally:
            target.dispose()
    if added.nodes != counts.nodes or counts.nodes < 3 * len(pks):
        raise RuntimeError(f"exported {counts.nodes} nodes, imported {added.nodes}")


def _list_workload(batch: int) -> Workload:
    return Workload(
        name="query_list",
        description=(
            f"filtered process list (state, class, exit status; newest 50) over {batch:,} processes"
        ),
        peer="workactors",
        kind=Kind.ENGINE,
        n=30,
        quick_n=10,
        run_once=_list_once,
        setup=lambda runtime: _list_setup(runtime, batch),
        warmup=2,
        unit="queries",
        batch=batch,
        quick_batch=QUICK_PROCESSES,
        resize=_list_workload,
    )


def _ancestors_workload(batch: int) -> Workload:
    return Workload(
        name="query_ancestors",
        description=(
            f"with_ancestors from the root of a {TREE_DEPTH}-level tree, among {batch:,} processes"
        ),
        peer="workactors",
        kind=Kind.ENGINE,
        n=30,
        quick_n=10,
        run_once=_ancestors_once,
        setup=lambda runtime: _tree_setup(runtime, batch),
        warmup=2,
        unit="queries",
        batch=batch,
        quick_batch=QUICK_PROCESSES,
        resize=_ancestors_workload,
    )


def _archive_workload(processes: int) -> Workload:
    return Workload(
        name="archive_roundtrip",
        description=(
            f"export {3 * processes:,} nodes to an archive and import it into a new database"
        ),
        peer="workactors",
        kind=Kind.ENGINE,
        n=3,
        quick_n=1,
        run_once=_archive_once,
        setup=lambda runtime: _archive_setup(runtime, processes),
        teardown=no_teardown,
        warmup=0,
        unit="round trips",
        max_repeats=3,
        batch=processes,
        quick_batch=QUICK_ARCHIVE_PROCESSES,
        resize=_archive_workload,
    )


WORKLOADS: tuple[Workload, ...] = (
    _list_workload(PROCESSES),
    _ancestors_workload(PROCESSES),
    Workload(
        name="cache_hit",
        description="add(a, b) with caching on, every call a hit (compare workfunction_add)",
        peer="workactors",
        kind=Kind.ENGINE,
        n=300,
        quick_n=100,
        run_once=_cache_once,
        setup=_cache_setup,
    ),
    _archive_workload(ARCHIVE_PROCESSES),
)
