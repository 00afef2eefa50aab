"""Measured figures and the statistics over them: what the report is built from.

Repeats are kept separate (their spread is the noise the reader needs to see) and summarised
by the median, which one slow repeat cannot drag.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only for annotations: importing the workloads package at run time would load the
    # registry, whose peers import this module.
    from benchmarks.workloads.base import Workload

MB = 1024 * 1024


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) with linear interpolation between closest ranks.

    The same definition as numpy's default, written out so that the harness needs no numpy.

    Raises:
        ValueError: for no values, where any answer would be invented.
    """
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    lower = math.floor(position)
    upper = math.ceil(position)
    fraction = position - lower
    return ordered[lower] + (ordered[upper] - ordered[lower]) * fraction


@dataclass(frozen=True, slots=True)
class RepeatResult:
    """One repeat: ``n`` timed iterations back to back.

    Attributes:
        wall_seconds: from before the first iteration to after the last one, so it includes
            the loop itself; throughput is computed from it, not from the sum of latencies.
        latencies: seconds per iteration, in order.
        peak_threads: most threads of the engine's OS process seen during the repeat, if the
            workload samples them.
        messages: actor messages sent during the repeat, if counted (workactors, in process).
        notes: other figures the workload measured in the repeat, by name (the daemon
            workloads: checkpoint bytes).
    """

    wall_seconds: float
    latencies: tuple[float, ...]
    peak_threads: int | None = None
    messages: int | None = None
    notes: Mapping[str, float] | None = None

    @property
    def iterations(self) -> int:
        """Timed iterations."""
        return len(self.latencies)


@dataclass(slots=True)
class WorkloadResult:
    """Everything measured for one workload on one peer.

    Attributes:
        workload: what ran.
        iterations: timed iterations per repeat.
        repeat_results: one per repeat, in order.
        rss_before: RSS in bytes of the engine's OS process before the workload's setup
            (after a full collection).
        rss_after: RSS in bytes after the workload (after a full collection): what it left.
        peak_rss: peak RSS in bytes during the workload (see ``benchmarks.meters``).
        memory_method: how ``peak_rss`` was measured.
        database_bytes: database size after the session closed, None if the peer has none.
        duration_seconds: the whole workload, setup and shutdown included.
        error: the exception text if the workload failed; figures are then incomplete.
    """

    workload: Workload
    iterations: int
    repeat_results: list[RepeatResult] = field(default_factory=list)
    rss_before: int = 0
    rss_after: int = 0
    peak_rss: int = 0
    memory_method: str = ""
    database_bytes: int | None = None
    duration_seconds: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True if every repeat ran."""
        return self.error is None and bool(self.repeat_results)

    def throughputs(self) -> list[float]:
        """Processes (or operations) per second of each repeat."""
        per_iteration = self.workload.processes_per_iteration
        return [
            per_iteration * repeat.iterations / repeat.wall_seconds
            for repeat in self.repeat_results
        ]

    @property
    def median_throughput(self) -> float:
        """Median over repeats of processes (operations) per second."""
        return statistics.median(self.throughputs())

    @property
    def median_wall_seconds(self) -> float:
        """Median over repeats of a repeat's wall time (for the scale workload: one batch)."""
        return statistics.median(repeat.wall_seconds for repeat in self.repeat_results)

    @property
    def seconds_per_process(self) -> float:
        """Cost of one process (operation): the inverse of the median throughput."""
        return 1.0 / self.median_throughput

    def latency_percentile_ms(self, q: float) -> float:
        """Median over repeats of the ``q``-th percentile latency per process, in ms.

        An iteration's latency is divided by ``processes_per_iteration`` so that the figure
        is per process like the throughput, and workloads of different shapes compare.
        """
        per_iteration = self.workload.processes_per_iteration
        return statistics.median(
            percentile(repeat.latencies, q) * 1000 / per_iteration for repeat in self.repeat_results
        )

    @property
    def peak_threads(self) -> int | None:
        """Most threads seen in any repeat, None if not sampled."""
        sampled = [r.peak_threads for r in self.repeat_results if r.peak_threads is not None]
        return max(sampled) if sampled else None

    @property
    def messages_per_process(self) -> float | None:
        """Actor messages per process over every counted repeat, None if not counted."""
        counted = [r for r in self.repeat_results if r.messages is not None]
        processes = sum(r.iterations for r in counted) * self.workload.processes_per_iteration
        if not counted or processes == 0:
            return None
        return sum(r.messages or 0 for r in counted) / processes

    @property
    def notes(self) -> dict[str, float]:
        """The median over repeats of each of the repeats' ``notes``."""
        named: dict[str, list[float]] = {}
        for repeat in self.repeat_results:
            for name, value in (repeat.notes or {}).items():
                named.setdefault(name, []).append(value)
        return {name: statistics.median(values) for name, values in named.items()}

    @property
    def processes_measured(self) -> int:
        """Processes (operations) in all timed iterations of all repeats."""
        return (
            sum(r.iterations for r in self.repeat_results) * self.workload.processes_per_iteration
        )


def engine_and_primitives(
    results: Sequence[WorkloadResult],
) -> tuple[list[WorkloadResult], list[WorkloadResult]]:
    """Split successful results into engine workloads and primitives."""
    from benchmarks.workloads.base import Kind

    engine = [r for r in results if r.ok and r.workload.kind is Kind.ENGINE]
    primitive = [r for r in results if r.ok and r.workload.kind is Kind.PRIMITIVE]
    return engine, primitive
