"""The workload registry: every workload of every peer, in the order the report lists them.

Primitives run first so that the floor is known before the engine figures, and engine
workloads keep their registration order so that tables of two runs line up.
"""

from __future__ import annotations

from collections.abc import Iterable

from benchmarks.workloads import primitives, process_plain, workfunction_add, workfunction_nested
from benchmarks.workloads.base import Kind, Workload

WORKLOADS: tuple[Workload, ...] = (
    *primitives.WORKLOADS,
    workfunction_add.WORKLOAD,
    workfunction_nested.WORKLOAD,
    process_plain.WORKLOAD,
)


def workload_names() -> list[str]:
    """Distinct workload names, in registry order."""
    return list(dict.fromkeys(workload.name for workload in WORKLOADS))


def select(
    names: Iterable[str] | None = None, peers: Iterable[str] | None = None
) -> list[Workload]:
    """The workloads called ``names`` (all if None) of ``peers`` (all if None), registry order.

    Raises:
        KeyError: a name or peer that no workload has, so that a typo does not silently
            run nothing.
    """
    wanted = list(dict.fromkeys(names)) if names else None
    wanted_peers = list(dict.fromkeys(peers)) if peers else None
    unknown = sorted(set(wanted or ()) - {w.name for w in WORKLOADS})
    if unknown:
        raise KeyError(f"unknown workload(s) {unknown}; known: {workload_names()}")
    unknown_peers = sorted(set(wanted_peers or ()) - {w.peer for w in WORKLOADS})
    if unknown_peers:
        raise KeyError(f"no workload for peer(s) {unknown_peers}")
    return [
        workload
        for workload in WORKLOADS
        if (wanted is None or workload.name in wanted)
        and (wanted_peers is None or workload.peer in wanted_peers)
    ]


__all__ = ["WORKLOADS", "Kind", "Workload", "select", "workload_names"]
