"""Timing, statistics and memory: what turns a ``Workload`` into measured figures.

Every figure in the report comes from here and from nothing else: iterations are timed one by
one with ``time.perf_counter``, repeats are kept separate (their spread is the noise the
reader needs to see) and summarised by the median, which one slow repeat cannot drag.
"""

from __future__ import annotations

import gc
import math
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from benchmarks.peers import Peer
from benchmarks.workloads.base import Kind, Workload

MB = 1024 * 1024

ProgressCallback = Callable[[int], None]


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


class MemoryMeter:
    """Resident set size of this OS process, with a peak that can be reset per workload.

    On Linux, writing ``5`` to ``/proc/self/clear_refs`` resets the kernel's high-water mark
    (``VmHWM``), so each workload gets its own exact peak without a sampling thread that would
    compete for the GIL with the code being timed. Elsewhere the peak is ``ru_maxrss``, the
    process's lifetime peak, and ``peak_is_per_workload`` says so.
    """

    _HWM = re.compile(r"^VmHWM:\s+(\d+)\s+kB", re.MULTILINE)

    def __init__(self) -> None:
        self._process = psutil.Process()
        self.peak_is_per_workload = self._try_reset() and self._read_hwm() is not None

    @property
    def method(self) -> str:
        """How the peak is measured, for the JSON report."""
        if self.peak_is_per_workload:
            return "VmHWM, reset per workload via /proc/self/clear_refs"
        return "ru_maxrss, peak over the life of the benchmark process"

    @staticmethod
    def _try_reset() -> bool:
        try:
            with open("/proc/self/clear_refs", "w") as clear_refs:
                clear_refs.write("5")
        except OSError:
            return False
        return True

    def _read_hwm(self) -> int | None:
        try:
            status = Path("/proc/self/status").read_text()
        except OSError:
            return None
        match = self._HWM.search(status)
        return int(match.group(1)) * 1024 if match else None

    def rss(self) -> int:
        """Current resident set size in bytes."""
        return int(self._process.memory_info().rss)

    def reset_peak(self) -> None:
        """Start a new peak window (no-op where the kernel cannot do it)."""
        if self.peak_is_per_workload:
            self._try_reset()

    def peak(self) -> int:
        """Peak resident set size in bytes since ``reset_peak`` (or process start)."""
        if self.peak_is_per_workload:
            hwm = self._read_hwm()
            if hwm is not None:
                return hwm
        return self.max_rss()

    @staticmethod
    def max_rss() -> int:
        """``getrusage`` maxrss in bytes (kilobytes on Linux, bytes on macOS)."""
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(maxrss if sys.platform == "darwin" else maxrss * 1024)


@dataclass(frozen=True, slots=True)
class RepeatResult:
    """One repeat: ``n`` timed iterations back to back.

    Attributes:
        wall_seconds: from before the first iteration to after the last one, so it includes
            the loop itself; throughput is computed from it, not from the sum of latencies.
        latencies: seconds per iteration, in order.
    """

    wall_seconds: float
    latencies: tuple[float, ...]

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
        rss_before: RSS in bytes just before the session opened (after a full collection).
        rss_after: RSS in bytes after the session closed (after a full collection): what the
            workload left behind.
        peak_rss: peak RSS in bytes during the workload (see ``MemoryMeter``).
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
    def processes_measured(self) -> int:
        """Processes (operations) in all timed iterations of all repeats."""
        return (
            sum(r.iterations for r in self.repeat_results) * self.workload.processes_per_iteration
        )


def database_size(peer: Peer, home: Path) -> int | None:
    """Sum of the sizes of the peer's database files that exist; None if it has none."""
    files = peer.database_files(home)
    if not files:
        return None
    return sum(path.stat().st_size for path in files if path.exists())


def _full_collection() -> None:
    # Twice: finalizers run by the first collection can free more in the second.
    gc.collect()
    gc.collect()


def run_workload(
    workload: Workload,
    peer: Peer,
    *,
    iterations: int,
    repeats: int,
    seed: int,
    memory: MemoryMeter,
    base_dir: Path | None = None,
    progress: ProgressCallback | None = None,
) -> WorkloadResult:
    """Run ``workload`` on ``peer`` in a fresh temporary home and measure it.

    The home is new for every workload so that no workload pays for the database another one
    filled. Warm-up iterations run once, unmeasured; then each repeat starts after a full
    garbage collection (outside the timed loop) so that one repeat's garbage is not collected
    on another's clock.

    Args:
        workload: what to run.
        peer: the engine ``workload.peer`` names.
        iterations: timed iterations per repeat.
        repeats: how many repeats.
        seed: seeds ``random`` before setup, and is passed to the peer's session.
        memory: the meter shared by all workloads of the run.
        base_dir: where temporary homes are created (the filesystem matters for fsync).
        progress: called with the number of iterations just done (warm-up included).

    Returns:
        The result; on failure it carries ``error`` and whatever was measured before.
    """
    result = WorkloadResult(workload=workload, iterations=iterations)
    random.seed(seed)
    started = time.perf_counter()
    _full_collection()
    result.rss_before = memory.rss()
    memory.reset_peak()
    try:
        with tempfile.TemporaryDirectory(
            prefix=f"bench-{workload.peer}-{workload.name}-", dir=base_dir
        ) as tmp:
            home = Path(tmp)
            with peer.session(home, seed) as session:
                _measure(
                    workload,
                    session,
                    result,
                    iterations=iterations,
                    repeats=repeats,
                    progress=progress,
                )
            result.database_bytes = database_size(peer, home)
    except Exception as exc:  # a failing workload must not hide the others' figures
        result.error = f"{type(exc).__name__}: {exc}"
    result.peak_rss = memory.peak()
    _full_collection()
    result.rss_after = memory.rss()
    result.duration_seconds = time.perf_counter() - started
    return result


def _measure(
    workload: Workload,
    session: Any,
    result: WorkloadResult,
    *,
    iterations: int,
    repeats: int,
    progress: ProgressCallback | None,
) -> None:
    state = workload.setup(session)
    try:
        run_once = workload.run_once
        # Iteration indices are unique over the whole workload: inputs and files never repeat.
        next_index = workload.warmup
        for i in range(workload.warmup):
            run_once(state, i)
        if progress is not None:
            progress(workload.warmup)
        clock = time.perf_counter
        for _ in range(repeats):
            indices = range(next_index, next_index + iterations)
            next_index += iterations
            _full_collection()
            latencies: list[float] = []
            append = latencies.append
            repeat_start = clock()
            for i in indices:
                t0 = clock()
                run_once(state, i)
                append(clock() - t0)
            wall = clock() - repeat_start
            result.repeat_results.append(RepeatResult(wall, tuple(latencies)))
            if progress is not None:
                progress(iterations)
    finally:
        workload.teardown(state)


def engine_and_primitives(
    results: Sequence[WorkloadResult],
) -> tuple[list[WorkloadResult], list[WorkloadResult]]:
    """Split successful results into engine workloads and primitives."""
    engine = [r for r in results if r.ok and r.workload.kind is Kind.ENGINE]
    primitive = [r for r in results if r.ok and r.workload.kind is Kind.PRIMITIVE]
    return engine, primitive
