"""Workload 6, the daemon: durable steps per second with 1 and 2 workers, and recovery time.

Each iteration starts a real daemon (worker OS processes) on a fresh home, submits work chains
of 10 steps and times them until every one has finished; each step is checkpointed (an fsynced,
atomically replaced file) and recorded in the provenance database. The checkpoints' median
sizes (prefix, envelope, payload and total bytes, ``actors.daemon.workload.CheckpointSizes``)
are reported beside the throughput. ``daemon_recovery`` kills
every worker with SIGKILL while they hold waiting work chains and times until all are held
again. Both are timed inside ``actors.daemon.workload``, so the table's per-iteration figure is
the daemon's, not the harness's.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from typing import Any

from actors.daemon.workload import measure_recovery, run_daemon_workload
from benchmarks.figures import RepeatResult
from benchmarks.workloads.base import Kind, ProgressCallback, Workload

STEPS = 10
CHAINS = 200
QUICK_CHAINS = 20
RECOVERY_CHAINS = 100
QUICK_RECOVERY_CHAINS = 10


def _durable_repeat(workers: int, chains: int) -> Callable[..., RepeatResult]:
    def run_repeat(_state: Any, indices: range, progress: ProgressCallback | None) -> RepeatResult:
        latencies = []
        sizes: dict[str, list[float]] = {}
        for _index in indices:
            with tempfile.TemporaryDirectory(prefix="workactors-bench-daemon-") as home:
                figures = run_daemon_workload(home, chains, STEPS, workers)
            latencies.append(figures["seconds"])
            for part, size in figures["checkpoint_bytes"].items():
                if part != "sampled":
                    sizes.setdefault(checkpoint_note(part), []).append(size)
            if progress is not None:
                progress(1)
        # The wall time is the daemon's own, from the first submission to the last end.
        notes = {name: statistics.median(values) for name, values in sizes.items()}
        return RepeatResult(sum(latencies), tuple(latencies), notes=notes or None)

    return run_repeat


def checkpoint_note(part: str) -> str:
    """The name under which a part's median size per checkpoint is reported."""
    return "checkpoint bytes" if part == "total" else f"checkpoint {part} bytes"


def _recovery_repeat(chains: int) -> Callable[..., RepeatResult]:
    def run_repeat(_state: Any, indices: range, progress: ProgressCallback | None) -> RepeatResult:
        latencies = []
        for _index in indices:
            with tempfile.TemporaryDirectory(prefix="workactors-bench-recovery-") as home:
                figures = measure_recovery(home, chains, workers=2)
            latencies.append(figures["recovery_seconds"])
            if progress is not None:
                progress(1)
        return RepeatResult(sum(latencies), tuple(latencies))

    return run_repeat


def _durable(workers: int) -> Workload:
    return Workload(
        name="daemon_steps",
        variant=f"{workers}w",
        description=(
            f"{CHAINS} submitted work chains of {STEPS} checkpointed steps, run by a daemon of "
            f"{workers} worker(s) until all finished (throughput: durable steps/s)"
        ),
        peer="workactors",
        kind=Kind.ENGINE,
        n=1,
        quick_n=1,
        run_repeat=_durable_repeat(workers, CHAINS),
        processes_per_iteration=CHAINS * STEPS,
        warmup=0,
        unit="durable steps",
        max_repeats=3,
        batch=CHAINS,
        quick_batch=QUICK_CHAINS,
        resize=lambda size: _resized(workers, size),
    )


def _resized(workers: int, chains: int) -> Workload:
    from dataclasses import replace

    return replace(
        _durable(workers),
        run_repeat=_durable_repeat(workers, chains),
        processes_per_iteration=chains * STEPS,
        batch=chains,
    )


def _recovery(chains: int) -> Workload:
    from dataclasses import replace

    workload = Workload(
        name="daemon_recovery",
        description=(
            f"SIGKILL of both workers holding {chains} waiting work chains, until all are held "
            "again (latency = recovery time; about 0.2 s resolution)"
        ),
        peer="workactors",
        kind=Kind.ENGINE,
        n=1,
        quick_n=1,
        run_repeat=_recovery_repeat(chains),
        warmup=0,
        unit="recoveries",
        max_repeats=3,
        batch=chains,
        quick_batch=QUICK_RECOVERY_CHAINS,
    )
    return replace(workload, resize=_recovery)


WORKLOADS: tuple[Workload, ...] = (_durable(1), _durable(2), _recovery(RECOVERY_CHAINS))
