"""The workload registry: every workload of every peer, in the order the report lists them.

Primitives run first so that the floor is known before the engine figures. Engine workloads
keep their registration order so that tables of two runs line up, and within one name the
workactors entries come before the peers' (aiida-core, DBOS), which is the order their repeats
interleave in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from benchmarks.workloads import (
    aiida_core,
    cold_start,
    daemon,
    dbos,
    durable,
    primitives,
    process_plain,
    query,
    restart,
    web_list,
    workchains,
    workfunction_add,
    workfunction_nested,
)
from benchmarks.workloads.base import Kind, Workload


def _interleaved(*groups: tuple[Workload, ...]) -> tuple[Workload, ...]:
    """Workloads grouped by name, in the order names first appear."""
    ordered: dict[str, list[Workload]] = {}
    for group in groups:
        for workload in group:
            ordered.setdefault(workload.name, []).append(workload)
    return tuple(workload for same_name in ordered.values() for workload in same_name)


WORKLOADS: tuple[Workload, ...] = _interleaved(
    primitives.WORKLOADS,
    (
        workfunction_add.WORKLOAD,
        durable.on_postgresql(workfunction_add.WORKLOAD),
        workfunction_nested.WORKLOAD,
        process_plain.WORKLOAD,
    ),
    workchains.WORKLOADS,
    (restart.WORKLOAD,),
    # Two workers run the code one worker runs: --quick keeps to one (it must fit a minute).
    tuple(replace(w, quick=w.variant != "2w") for w in daemon.WORKLOADS),
    durable.WORKLOADS,
    (cold_start.WORKLOAD, cold_start.ON_POSTGRESQL),
    (web_list.WORKLOAD,),
    query.WORKLOADS,
    aiida_core.WORKLOADS,
    dbos.WORKLOADS,
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


def groups(workloads: Iterable[Workload]) -> list[list[Workload]]:
    """Consecutive workloads of the same name, which run with their repeats interleaved."""
    grouped: dict[str, list[Workload]] = {}
    for workload in workloads:
        grouped.setdefault(workload.name, []).append(workload)
    return list(grouped.values())


__all__ = ["WORKLOADS", "Kind", "Workload", "groups", "select", "workload_names"]
