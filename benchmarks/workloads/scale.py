"""Workload 7, ``scale_wait``: thousands of work chains waiting on one child each, at once.

One iteration runs a ``Driver`` work chain that submits ``batch`` ``Waiter`` work chains in one
step; each waiter submits one ``Leaf`` child and waits for it. So ``2 * batch + 1`` processes
per iteration, and up to ``batch`` waiters waiting at the same time. What it shows is wall time,
peak RSS and peak thread count: with passivation a waiting work chain holds no thread, without
it each one holds its actor's thread. A single iteration is the measurement, so repeats are
capped at three and warm-up is one small batch run by the setup.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from actors import Runtime
from benchmarks.workloads.base import Kind, Workload
from provenance import Int

NAME = "scale_wait"
BATCH = 10_000
QUICK_BATCH = 200
WARMUP_BATCH = 20
MAX_REPEATS = 3
# Far above what 10,000 waiters take when things work; past it the engine is stuck. Larger
# batches get TIMEOUT_PER_WAITER_S each (about six times what a waiter takes on a loaded
# two-core machine), so that 100,000 waiters are not cut off at a quarter of an hour.
TIMEOUT_S = 900.0
TIMEOUT_PER_WAITER_S = 0.03


def timeout(batch: int) -> float:
    """How long one batch of ``batch`` waiters may take before it counts as stuck."""
    return max(TIMEOUT_S, batch * TIMEOUT_PER_WAITER_S)


def processes(batch: int) -> int:
    """Processes per iteration: the driver, its waiters and their children."""
    return 2 * batch + 1


def describe(batch: int) -> str:
    """The one-line description, with the batch size."""
    return (
        f"{batch:,} WorkChains launched in one step, each waiting on one child WorkChain "
        f"({processes(batch):,} processes per iteration; throughput counts all of them)"
    )


def run_driver(runtime: Runtime, batch: int, base: int) -> None:
    """One batch, checked, with a timeout so that a stuck engine fails instead of hanging."""
    from benchmarks.workloads.workchain_flows import Driver

    future = runtime.run_async(Driver, n=Int(batch), base=Int(base))
    outputs: Any = future.result(timeout=timeout(batch))
    expected = sum(base + k + 1 for k in range(batch))
    if outputs["total"].value != expected:
        raise RuntimeError(f"Driver(n={batch}) gave {outputs['total'].value}, not {expected}")


def make(batch: int, unavailable: str | None = None) -> Workload:
    """The workactors workload for ``batch`` waiters per iteration."""

    def setup(runtime: Runtime) -> Runtime:
        run_driver(runtime, min(batch, WARMUP_BATCH), base=-(10**9))
        return runtime

    def run_once(runtime: Runtime, i: int) -> None:
        run_driver(runtime, batch, base=i * batch)

    workload = Workload(
        name=NAME,
        description=describe(batch),
        peer="workactors",
        kind=Kind.ENGINE,
        n=1,
        quick_n=1,
        setup=setup,
        run_once=run_once,
        processes_per_iteration=processes(batch),
        warmup=0,
        batch=batch,
        quick_batch=QUICK_BATCH,
        max_repeats=MAX_REPEATS,
        sample_threads=True,
        unavailable=unavailable,
    )
    return replace(workload, resize=lambda size: make(size, unavailable))
