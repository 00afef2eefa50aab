"""Durable work on workactors' daemon, on SQLite and PostgreSQL: what DBOS is compared with.

``daemon_steps`` on SQLite is ``benchmarks.workloads.daemon``'s; this module adds it on
PostgreSQL, and ``daemon_fanout`` (parents of 10 children, every process submitted to the
daemon and checkpointed) on both. Each iteration starts a daemon on a fresh home (and, on
PostgreSQL, a fresh schema), submits the batch, and times from the first submission to the
moment every submitted process has ended, then checks every result. Daemon start and stop
are outside the timing, as in ``actors.daemon.workload``.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.databases import POSTGRESQL, SQLITE, fresh_schema
from benchmarks.figures import RepeatResult
from benchmarks.workloads.base import Kind, ProgressCallback, Workload
from benchmarks.workloads.shapes import FAN_OUT

STEPS = 10
CHAINS = 200
QUICK_CHAINS = 20
PARENTS = 20
QUICK_PARENTS = 4
TIMEOUT_S = 900.0
# Workers import the submitted classes by module path: from the folder that holds benchmarks/.
SOURCE_ROOT = Path(__file__).resolve().parents[2]
KEY_ENV = "WORKACTORS_CHECKPOINT_KEY_FILE"

Submit = Callable[[Any], list[int]]
Check = Callable[[Any, list[int]], None]


@contextmanager
def _shared_key(folder: Path) -> Iterator[None]:
    """A checkpoint key file shared by the submitter and the workers (PostgreSQL homes)."""
    key = folder / "checkpoint.key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o600)
    previous = os.environ.get(KEY_ENV)
    os.environ[KEY_ENV] = str(key)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(KEY_ENV, None)
        else:
            os.environ[KEY_ENV] = previous


def _ended_in_folders(runtime: Any, pids: list[int]) -> Callable[[], bool]:
    wanted = {f"{pid}.pickle" for pid in pids}

    def done() -> bool:
        names = set(os.listdir(runtime.finished_directory))
        return wanted <= names | set(os.listdir(runtime.failed_directory))

    return done


def run_on_daemon(database: str, workers: int, submit: Submit, check: Check) -> float:
    """Seconds from the first submission to the end of every process ``submit`` queued up.

    A daemon of ``workers`` workers runs on a fresh home (and PostgreSQL schema) that is
    removed afterwards; ``check`` then verifies every result.
    """
    from actors.daemon.manage import START_TIMEOUT, start_daemon, stop_daemon
    from actors.runtime import Runtime
    from benchmarks.shared_database import all_ended, wait_for

    with tempfile.TemporaryDirectory(prefix="workactors-bench-durable-") as scratch:
        folder = Path(scratch)
        if database == SQLITE:
            start_daemon(folder, workers, timeout=START_TIMEOUT, cwd=SOURCE_ROOT)
            try:
                with Runtime(folder) as runtime:
                    first = time.perf_counter()
                    pids = submit(runtime)
                    ended = wait_for(
                        _ended_in_folders(runtime, pids), f"{len(pids)} processes", TIMEOUT_S
                    )
                    check(runtime, pids)
            finally:
                stop_daemon(folder)
            return ended - first
        with _shared_key(folder), fresh_schema() as url:
            daemon_home = folder / "daemon"
            start_daemon(
                daemon_home, workers, database_url=url, timeout=START_TIMEOUT, cwd=SOURCE_ROOT
            )
            try:
                with Runtime(folder / "submitter", database_url=url) as runtime:
                    first = time.perf_counter()
                    pids = submit(runtime)
                    ended = wait_for(all_ended(url, pids), f"{len(pids)} processes", TIMEOUT_S)
                    check(runtime, pids)
            finally:
                stop_daemon(daemon_home)
            return ended - first


def _finished_output(runtime: Any, pid: int, name: str) -> int:
    from provenance.data import Int
    from provenance.process_nodes import ProcessNode
    from provenance.process_state import ProcessState

    node = runtime.load_node(pid)
    if not isinstance(node, ProcessNode) or node.process_state is not ProcessState.FINISHED:
        raise RuntimeError(f"process {pid} did not finish: {getattr(node, 'process_state', None)}")
    value = node.get_outputs_dict().get(name)
    if not isinstance(value, Int):
        raise RuntimeError(f"process {pid} has no Int output {name!r}")
    return int(value.value)


def _chains(chains: int) -> tuple[Submit, Check]:
    from actors.daemon.workload import CountingChain
    from provenance.data import Int

    def submit(runtime: Any) -> list[int]:
        return [
            runtime.queue_up(CountingChain, {"steps": Int(STEPS), "start": Int(k)})
            for k in range(chains)
        ]

    def check(runtime: Any, pids: list[int]) -> None:
        for k, pid in enumerate(pids):
            total = _finished_output(runtime, pid, "total")
            if total != CountingChain.expected(STEPS, k):
                raise RuntimeError(f"chain {pid} has total {total}")

    return submit, check


def _parents(parents: int) -> tuple[Submit, Check]:
    from benchmarks.workloads.workchain_flows import FanOut
    from provenance.data import Int

    def submit(runtime: Any) -> list[int]:
        return [runtime.queue_up(FanOut, {"x": Int(p * FAN_OUT)}) for p in range(parents)]

    def check(runtime: Any, pids: list[int]) -> None:
        for p, pid in enumerate(pids):
            base = p * FAN_OUT
            expected = sum(base + k + 1 for k in range(FAN_OUT))
            if (total := _finished_output(runtime, pid, "total")) != expected:
                raise RuntimeError(f"fan-out {pid} has total {total}, not {expected}")

    return submit, check


def _repeat(
    database: str, workers: int, batch: Callable[[], tuple[Submit, Check]]
) -> Callable[..., RepeatResult]:
    def run_repeat(_state: Any, indices: range, progress: ProgressCallback | None) -> RepeatResult:
        latencies = []
        for _index in indices:
            latencies.append(run_on_daemon(database, workers, *batch()))
            if progress is not None:
                progress(1)
        # The wall time is the daemon's own, from the first submission to the last end.
        return RepeatResult(sum(latencies), tuple(latencies))

    return run_repeat


def steps(workers: int, database: str, chains: int = CHAINS) -> Workload:
    """``daemon_steps``: ``chains`` work chains of 10 durable steps, ``workers`` workers."""
    return Workload(
        name="daemon_steps",
        variant=f"{workers}w",
        description=(
            f"{chains} submitted work chains of {STEPS} checkpointed steps, run by a daemon of "
            f"{workers} worker(s) on {database} until all finished (throughput: durable steps/s)"
        ),
        peer="workactors",
        kind=Kind.ENGINE,
        n=1,
        quick_n=1,
        run_repeat=_repeat(database, workers, lambda: _chains(chains)),
        processes_per_iteration=chains * STEPS,
        warmup=0,
        unit="durable steps",
        max_repeats=3,
        batch=chains,
        quick_batch=QUICK_CHAINS,
        resize=lambda size: steps(workers, database, size),
        database=database,
    )


def fan_out(database: str, parents: int = PARENTS, workers: int = 1) -> Workload:
    """``daemon_fanout``: ``parents`` submitted parents of 10 submitted children each."""
    return Workload(
        name="daemon_fanout",
        variant=f"{workers}w",
        description=(
            f"{parents} submitted work chains each submitting {FAN_OUT} one-step child work "
            f"chains and waiting for them, run by a daemon of {workers} worker(s) on {database} "
            "(throughput counts children)"
        ),
        peer="workactors",
        kind=Kind.ENGINE,
        n=1,
        quick_n=1,
        run_repeat=_repeat(database, workers, lambda: _parents(parents)),
        processes_per_iteration=parents * FAN_OUT,
        warmup=0,
        unit="children",
        max_repeats=3,
        batch=parents,
        quick_batch=QUICK_PARENTS,
        resize=lambda size: fan_out(database, size, workers),
        database=database,
    )


def on_postgresql(workload: Workload) -> Workload:
    """``workload`` with its session on a fresh PostgreSQL schema."""
    return replace(workload, database=POSTGRESQL)


WORKLOADS: tuple[Workload, ...] = (
    steps(1, POSTGRESQL),
    fan_out(SQLITE),
    fan_out(POSTGRESQL),
)
