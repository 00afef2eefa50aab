"""The aiida-core side of the workloads: registry entries whose work runs in the aiida runner.

The code of each workload is in ``benchmarks/aiida_peer/flows.py``; an entry here names it and
sizes it (``remote.entry`` forwards setup and repeats to the runner session). Sizes are smaller
than workactors' because aiida-core is about a hundred times slower: the same N would take the
full run far past its ten minutes. Per-process figures do not depend on N, and every aiida-core
row states its own N.
"""

from __future__ import annotations

from typing import Any

from benchmarks.workloads import remote, scale
from benchmarks.workloads.base import Workload

PEER = "aiida"
AIIDA_SCALE_BATCH = 50
AIIDA_SCALE_QUICK_BATCH = 10


def _entry(name: str, description: str, **fields: Any) -> Workload:
    return remote.entry(PEER, name, description, **fields)


def scale_entry(batch: int) -> Workload:
    """Workload 7 on aiida-core with ``batch`` waiting work chains per iteration."""
    return _entry(
        scale.NAME,
        scale.describe(batch) + "; aiida-core runs them all on one asyncio loop",
        n=1,
        quick_n=1,
        warmup=0,
        processes_per_iteration=scale.processes(batch),
        batch=batch,
        quick_batch=AIIDA_SCALE_QUICK_BATCH,
        resize=scale_entry,
        max_repeats=scale.MAX_REPEATS,
        sample_threads=True,
    )


WORKLOADS: tuple[Workload, ...] = (
    _entry(
        "workfunction_add",
        "@calcfunction add(a, b) called blockingly (aiida-core's way to create data)",
        variant="calcfunction",
        n=25,
        quick_n=8,
        warmup=3,
    ),
    _entry(
        "workfunction_add",
        "@workfunction add(a, b) that stores its sum itself (workfunctions may not create data)",
        variant="workfunction",
        n=25,
        quick_n=8,
        warmup=3,
    ),
    _entry(
        "workfunction_nested",
        "@workfunction calling a @calcfunction once (2 processes, CALL link)",
        n=15,
        quick_n=5,
        warmup=2,
        processes_per_iteration=2,
    ),
    _entry(
        "workchain_3step",
        "WorkChain, 3-step outline sharing ctx, one Int out, run blockingly",
        n=20,
        quick_n=6,
        warmup=2,
    ),
    _entry(
        "workchain_fanout",
        "WorkChain submitting 10 one-step child WorkChains, gathered with append_ "
        "(throughput counts children)",
        n=3,
        quick_n=1,
        warmup=1,
        processes_per_iteration=10,
        unit="children",
    ),
    _entry(
        "workchain_while",
        "WorkChain with while_ looping 10 times, one Int out",
        n=15,
        quick_n=5,
        warmup=2,
    ),
    scale_entry(AIIDA_SCALE_BATCH),
)

NOT_PORTED: dict[str, str] = {
    "process_plain": "no aiida-core counterpart: its users do not subclass Process directly "
    "(CalcJob, WorkChain and process functions are the public ways); the class-based path "
    "is compared in workchain_3step",
}
"""Why a workactors workload has no aiida-core row, by name."""

NOTES: dict[str, str] = {
    "workfunction_add:workfunction": "the workfunction stores its sum itself: aiida-core "
    "workfunctions may not create data",
    "workfunction_nested": "the inner process is a calcfunction: aiida-core workfunctions may "
    "not create data",
    "workchain_fanout": "no broker: the parent polls for its children every 1 s "
    "(runner.poll.interval as verdi presto sets it)",
    "scale_wait": "aiida-core runs every work chain on one asyncio loop in one thread",
}
"""What differs on aiida-core's side of a comparison, by workload label."""
