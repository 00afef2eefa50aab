"""Timing: what turns ``Workload``\\ s into measured ``WorkloadResult``\\ s.

Every figure in the report comes from here and from nothing else: iterations are timed one by
one with ``time.perf_counter`` and repeats are kept separate. Workloads of the same name on
several peers (workactors and aiida-core) run as a group whose repeats are interleaved: repeat
1 on each peer, then repeat 2 on each, so that a burst of noise on the machine lands on both
engines instead of on one of them.
"""

from __future__ import annotations

import gc
import random
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.figures import RepeatResult, WorkloadResult
from benchmarks.meters import MemoryMeter, MessageCounter, Meter, ThreadSampler
from benchmarks.peers import Peer
from benchmarks.workloads.base import ProgressCallback, Workload

ProgressFactory = Callable[[Workload], ProgressCallback | None]


def database_size(peer: Peer, home: Path) -> int | None:
    """Sum of the sizes of the peer's database files that exist; None if it has none."""
    files = peer.database_files(home)
    if not files:
        return None
    return sum(path.stat().st_size for path in files if path.exists())


def full_collection() -> None:
    """Collect garbage twice: finalizers run by the first collection can free more."""
    gc.collect()
    gc.collect()


def time_locally(
    workload: Workload, state: Any, indices: range, progress: ProgressCallback | None
) -> RepeatResult:
    """Run ``workload.run_once`` for each index in this process and time each call."""
    run_once = workload.run_once
    if run_once is None:
        raise TypeError(f"{workload.key} has no run_once")
    full_collection()
    clock = time.perf_counter
    latencies: list[float] = []
    append = latencies.append
    sampler = ThreadSampler() if workload.sample_threads else None
    counter = MessageCounter() if workload.peer == "workactors" else None
    with ExitStack() as stack:
        if sampler is not None:
            stack.enter_context(sampler)
        if counter is not None:
            stack.enter_context(counter)
        repeat_start = clock()
        for i in indices:
            t0 = clock()
            run_once(state, i)
            append(clock() - t0)
        wall = clock() - repeat_start
    if progress is not None:
        progress(len(indices))
    return RepeatResult(
        wall,
        tuple(latencies),
        sampler.peak if sampler else None,
        counter.messages if counter else None,
    )


@dataclass(slots=True)
class Trial:
    """One workload open on one peer: its home, session and state live between repeats."""

    workload: Workload
    peer: Peer
    result: WorkloadResult
    stack: ExitStack
    repeats: int
    progress: ProgressCallback | None
    started: float
    home: Path | None = None
    state: Any = None
    meter: Meter | None = None
    next_index: int = 0

    def fail(self, exc: BaseException) -> None:
        """Record the error; the trial runs no more repeats, the others carry on."""
        if self.result.error is None:
            self.result.error = f"{type(exc).__name__}: {exc}"

    def record_database_size(self) -> None:
        """Read the database size: runs after the session closed, before the home goes."""
        if self.home is not None:
            self.result.database_bytes = database_size(self.peer, self.home)

    def run_repeat(self, indices: range) -> RepeatResult:
        """Time ``indices`` here or, for a remote engine, in its own OS process."""
        if self.workload.run_repeat is not None:
            return self.workload.run_repeat(self.state, indices, self.progress)
        return time_locally(self.workload, self.state, indices, self.progress)


def _open(
    workload: Workload,
    peer: Peer,
    *,
    iterations: int,
    repeats: int,
    seed: int,
    memory: MemoryMeter,
    base_dir: Path | None,
    progress: ProgressCallback | None,
) -> Trial:
    """Fresh home, session, setup and warm-up; on error the trial comes back failed."""
    trial = Trial(
        workload=workload,
        peer=peer,
        result=WorkloadResult(workload=workload, iterations=iterations),
        stack=ExitStack(),
        repeats=min(repeats, workload.max_repeats or repeats),
        progress=progress,
        started=time.perf_counter(),
    )
    random.seed(seed)
    full_collection()
    try:
        # A fresh home per workload: no workload pays for the database another one filled.
        tmp = trial.stack.enter_context(
            tempfile.TemporaryDirectory(
                prefix=f"bench-{workload.peer}-{workload.name}-", dir=base_dir
            )
        )
        trial.home = Path(tmp)
        # Callbacks run last-in first-out: this one after the session has closed (committed,
        # WAL checkpointed) and before the temporary home is removed.
        trial.stack.callback(trial.record_database_size)
        if not peer.remote:
            memory.reset_peak()
            trial.result.rss_before = memory.rss()
        session = trial.stack.enter_context(
            peer.session(trial.home, seed, database=workload.database)
        )
        trial.meter = peer.meter(session, memory)
        if peer.remote:
            # The engine's own OS process starts with the session: measure from there.
            trial.result.rss_before = trial.meter.rss()
            trial.meter.reset_peak()
        trial.state = workload.setup(session)
        trial.stack.callback(workload.teardown, trial.state)
        if workload.warmup:
            # Warm-up indices come first, so timed inputs and files never repeat them.
            trial.run_repeat(range(workload.warmup))
        trial.next_index = workload.warmup
    except Exception as exc:  # a failing workload must not hide the others' figures
        trial.fail(exc)
    return trial


def _close(trial: Trial, memory: MemoryMeter) -> WorkloadResult:
    """Memory figures, then teardown and session exit (always), then the local RSS left."""
    result = trial.result
    meter = trial.meter or (None if trial.peer.remote else memory)
    try:
        if meter is not None:
            result.memory_method = meter.method
            result.peak_rss = meter.peak()
            if meter is not memory:
                result.rss_after = meter.rss()  # the remote process ends with its session
    except Exception as exc:
        trial.fail(exc)
    finally:
        try:
            trial.stack.close()
        except Exception as exc:
            trial.fail(exc)
    if meter is memory:
        full_collection()
        result.rss_after = memory.rss()
    result.duration_seconds = time.perf_counter() - trial.started
    return result


def run_group(
    workloads: Sequence[Workload],
    peers: dict[str, Peer],
    *,
    iterations: Callable[[Workload], int],
    repeats: int,
    seed: int,
    memory: MemoryMeter,
    base_dir: Path | None = None,
    progress: ProgressFactory | None = None,
) -> list[WorkloadResult]:
    """Run workloads of one name on their peers, repeats interleaved, in the order given.

    Each workload gets a fresh temporary home and session, its setup and its warm-up; then
    repeat ``r`` runs on every peer before repeat ``r + 1`` runs on any. A peer that fails
    stops; the others go on.

    Args:
        workloads: the same workload on several peers (or one workload alone).
        peers: the peers by name.
        iterations: timed iterations per repeat of each workload.
        repeats: repeats per workload (a workload's ``max_repeats`` may lower it).
        seed: seeds ``random`` before each setup, and is passed to the peers' sessions.
        memory: the meter of this OS process, shared by the local workloads of the run; local
            peers never share a workload name, so their peak windows never overlap.
        base_dir: where temporary homes are created (the filesystem matters for fsync).
        progress: gives each workload the callback its iterations are reported to.

    Returns:
        One result per workload, in the order given; a failed one carries ``error``.
    """
    trials: list[Trial] = []
    try:
        for workload in workloads:
            trials.append(
                _open(
                    workload,
                    peers[workload.peer],
                    iterations=iterations(workload),
                    repeats=repeats,
                    seed=seed,
                    memory=memory,
                    base_dir=base_dir,
                    progress=progress(workload) if progress else None,
                )
            )
        for repeat in range(max((trial.repeats for trial in trials), default=0)):
            for trial in trials:
                if trial.result.error is not None or repeat >= trial.repeats:
                    continue
                n = trial.result.iterations
                indices = range(trial.next_index, trial.next_index + n)
                trial.next_index += n
                try:
                    trial.result.repeat_results.append(trial.run_repeat(indices))
                except Exception as exc:
                    trial.fail(exc)
    finally:
        results = [_close(trial, memory) for trial in trials]
    return results
