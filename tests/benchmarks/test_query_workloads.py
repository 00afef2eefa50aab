"""The query workloads do what they say, checked at a tiny scale (the benchmark runs them big)."""

from __future__ import annotations

from actors import Runtime
from benchmarks.workloads import query


def test_the_list_and_ancestor_queries_find_what_the_setup_built(runtime: Runtime) -> None:
    listed = query._list_setup(runtime, 600)
    query._list_once(listed, 0)
    tree = query._tree_setup(runtime, 10)
    query._ancestors_once(tree, 0)


def test_the_cache_workload_hits_and_the_archive_round_trip_keeps_every_node(
    runtime: Runtime,
) -> None:
    cached = query._cache_setup(runtime)
    for i in range(3):
        query._cache_once(cached, i)
    query._archive_once(query._archive_setup(runtime, 50), 0)
