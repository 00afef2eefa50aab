"""Daemon workloads for the benchmark harness: durable throughput and recovery after kill -9.

``run_daemon_workload`` submits work chains of N steps to a daemon of W workers and times them
until all have finished: each step is checkpointed (an fsynced file write) and recorded in the
provenance database, so the figure is durable steps per second. ``measure_recovery`` kills the
workers with SIGKILL while they hold waiting work chains and times until every chain is held
again. The classes here are importable, as submitted processes must be.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from actors.daemon.manage import START_TIMEOUT, start_daemon, stop_daemon
from actors.daemon.paths import DaemonPaths
from actors.daemon.status import live_workers
from actors.outline import while_
from actors.process import Process
from actors.runtime import Runtime
from actors.spec import ProcessSpec
from actors.workchain import WorkChain, WorkChainSpec
from persistence.codec import SIZES_PREFIX, FrameSizes, frame_sizes
from persistence.errors import CheckpointError
from persistence.folders import CHECKPOINT_SUFFIX
from persistence.memory_store import InMemoryStore
from provenance.data import Float, Int
from provenance.process_nodes import ProcessNode
from provenance.process_state import ProcessState

#: Seconds between two looks at the finished folder or the status files while waiting.
POLL_INTERVAL = 0.01
#: Seconds between two samples of the running checkpoints' sizes, and files read per sample.
SIZE_SAMPLE_INTERVAL = 0.1
SIZE_SAMPLE_FILES = 8


class CheckpointSizes:
    """Sizes of the checkpoints a run wrote, read from their headers (``frame_sizes``):
    running ones sampled while the chains run, and the final one of each chain at the end."""

    def __init__(self) -> None:
        self._seen: list[FrameSizes] = []

    def add(self, head: bytes) -> None:
        """Count the checkpoint that starts with ``head``; what is no checkpoint is ignored."""
        with contextlib.suppress(CheckpointError):
            self._seen.append(frame_sizes(head))

    def add_files(self, folder: Path, limit: int | None = None) -> None:
        """Count up to ``limit`` checkpoint files of ``folder`` (those that vanish are skipped)."""
        names = [n for n in os.listdir(folder) if n.endswith(CHECKPOINT_SUFFIX)]
        for name in names[:limit]:
            try:
                with open(folder / name, "rb") as handle:
                    self.add(handle.read(SIZES_PREFIX))
            except FileNotFoundError:
                continue

    def summary(self) -> dict[str, int]:
        """Median bytes per checkpoint of each part (prefix = magic, lengths and HMAC), and
        how many checkpoints were sampled; empty if none was."""
        if not self._seen:
            return {}
        return {
            "sampled": len(self._seen),
            "prefix": round(statistics.median(s.prefix for s in self._seen)),
            "envelope": round(statistics.median(s.envelope for s in self._seen)),
            "payload": round(statistics.median(s.payload for s in self._seen)),
            "total": round(statistics.median(s.total for s in self._seen)),
        }


def sampling(
    condition: Callable[[], bool], sample: Callable[[], None], every: float = SIZE_SAMPLE_INTERVAL
) -> Callable[[], bool]:
    """``condition``, which also calls ``sample`` at most every ``every`` seconds."""
    due = time.monotonic()

    def check() -> bool:
        nonlocal due
        if time.monotonic() >= due:
            sample()
            due = time.monotonic() + every
        return condition()

    return check


class CountingChain(WorkChain):
    """``steps`` steps, each adding its index to a running total: the total is checkable."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        """Inputs ``steps`` and ``start``; output ``total`` = start + 0 + 1 + ... + steps-1."""
        super().define(spec)
        spec.input("steps", valid_type=Int)
        spec.input("start", valid_type=Int, default=Int(0))
        spec.output("total", valid_type=Int)
        spec.outline(cls.setup, while_(cls.more)(cls.add_index), cls.finish)

    def setup(self) -> None:
        """Start counting."""
        self.ctx.index = 0
        self.ctx.total = self.inputs.start.value

    def more(self) -> bool:
        """True while steps remain."""
        return bool(self.ctx.index < self.inputs.steps.value)

    def add_index(self) -> None:
        """One durable step."""
        self.ctx.total += self.ctx.index
        self.ctx.index += 1

    def finish(self) -> None:
        """Emit the total."""
        self.out("total", Int(self.ctx.total))

    @staticmethod
    def expected(steps: int, start: int = 0) -> int:
        """What ``total`` must be."""
        return start + steps * (steps - 1) // 2


class Never(Process):
    """Queued without a checkpoint, so no worker ever runs it: something to wait on forever."""

    def run(self) -> None:
        """Never runs."""


class FirstStepClock(Process):
    """Its one step records when it started (``time.time()``): submit-to-first-step latency."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """Output ``started``."""
        super().define(spec)
        spec.output("started", valid_type=Float)

    def run(self) -> None:
        """Note the time."""
        self.out("started", Float(time.time()))


class WaitsOn(WorkChain):
    """Waits for process ``on`` to end; until then it is held, passivated, by a worker."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        """Input ``on``: the pid to wait for."""
        super().define(spec)
        spec.input("on", valid_type=Int)
        spec.outline(cls.wait_for_it, cls.after)

    def wait_for_it(self) -> None:
        """Wait."""
        self.insert_barrier(self.inputs.on.value)

    def after(self) -> None:
        """Nothing left."""


def _wait_until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``condition`` until true; the moment it became so (``time.perf_counter``)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:g} s")
        time.sleep(POLL_INTERVAL)
    return time.perf_counter()


def _retired(runtime: Runtime, pids: Iterable[int]) -> Callable[[], bool]:
    wanted = {f"{pid}.pickle" for pid in pids}

    def done() -> bool:
        names = set(os.listdir(runtime.finished_directory)) | set(
            os.listdir(runtime.failed_directory)
        )
        return wanted <= names

    return done


def _held(paths: DaemonPaths, pids: set[int], excluded: set[int]) -> Callable[[], bool]:
    """True once live workers other than the OS pids ``excluded`` hold every one of ``pids``."""

    def done() -> bool:
        held: set[int] = set()
        for worker in live_workers(paths):
            if worker.os_pid not in excluded:
                held.update(worker.held)
        return pids <= held

    return done


def run_daemon_workload(
    home: str | os.PathLike[str],
    n_chains: int,
    steps: int,
    workers: int,
    *,
    database_url: str | None = None,
    timeout: float = 600.0,
) -> dict[str, Any]:
    """Submit ``n_chains`` work chains of ``steps`` steps to a new daemon of ``workers``
    workers on ``home`` (an empty folder), time them to the end, stop the daemon.

    Returns a dict: ``chains``, ``steps``, ``workers``, ``seconds`` (first submission to last
    end), ``submit_seconds``, ``start_seconds`` (daemon start), ``stop_seconds``,
    ``durable_steps_per_second``, ``chains_per_second`` and ``checkpoint_bytes`` (median
    sizes per checkpoint, ``CheckpointSizes.summary``; empty on a shared database, whose
    checkpoints are no files). Only the ``steps`` loop steps are
    counted; each chain also runs a setup and a final step, each checkpointed too.

    Raises:
        AssertionError: if a chain did not finish with the right total.
        TimeoutError: if they did not all end within ``timeout`` seconds.
    """
    began = time.perf_counter()
    start_daemon(home, workers, database_url=database_url, timeout=START_TIMEOUT)
    started = time.perf_counter()
    try:
        with Runtime(home, database_url=database_url) as runtime:
            first = time.perf_counter()
            pids = runtime.queue_up_many(
                (CountingChain, {"steps": Int(steps), "start": Int(index)})
                for index in range(n_chains)
            )
            submitted = time.perf_counter()
            sizes = CheckpointSizes()
            running = Path(runtime.running_directory)
            done = sampling(
                _retired(runtime, pids), partial(sizes.add_files, running, SIZE_SAMPLE_FILES)
            )
            ended = _wait_until(done, timeout, f"the end of {n_chains} chains")
            sizes.add_files(runtime.finished_directory)
            _check_totals(runtime, pids, steps)
    finally:
        stopping = time.perf_counter()
        stop_daemon(home)
        stopped = time.perf_counter()
    seconds = ended - first
    return {
        "chains": n_chains,
        "steps": steps,
        "workers": workers,
        "seconds": seconds,
        "submit_seconds": submitted - first,
        "start_seconds": started - began,
        "stop_seconds": stopped - stopping,
        "durable_steps_per_second": n_chains * steps / seconds,
        "chains_per_second": n_chains / seconds,
        "checkpoint_bytes": sizes.summary(),
    }


def _check_totals(runtime: Runtime, pids: list[int], steps: int) -> None:
    for index, pid in enumerate(pids):
        node = _load(runtime, pid)
        outputs = node.get_outputs_dict()
        total = outputs.get("total")
        if node.process_state is not ProcessState.FINISHED or not isinstance(total, Int):
            raise AssertionError(f"chain {pid} ended {node.process_state}, not FINISHED")
        if total.value != CountingChain.expected(steps, index):
            raise AssertionError(f"chain {pid} has total {total.value!r}")


def _load(runtime: Runtime, pid: int) -> ProcessNode:
    node = runtime.load_node(pid)
    assert isinstance(node, ProcessNode)
    return node


def measure_recovery(
    home: str | os.PathLike[str],
    n_chains: int,
    workers: int,
    *,
    database_url: str | None = None,
    timeout: float = 300.0,
) -> dict[str, Any]:
    """Time from SIGKILL of every worker to every one of ``n_chains`` waiting work chains
    being held again by the restarted workers. ``home`` should be an empty folder.

    Returns a dict: ``chains``, ``workers``, ``hold_seconds`` (submission until all held),
    ``recovery_seconds``. The status files that tell who holds what are rewritten at most
    every 0.2 s, which bounds the resolution.

    Raises:
        TimeoutError: if the chains are not all held within ``timeout`` seconds.
    """
    start_daemon(home, workers, database_url=database_url, timeout=START_TIMEOUT)
    paths = DaemonPaths.of(home)
    try:
        with Runtime(home, database_url=database_url) as runtime:
            # Submitted into a store no worker sees, so it never runs: the chains wait for good.
            gate = runtime.queue_up(Never, {}, storage=InMemoryStore())
            first = time.perf_counter()
            pids = {runtime.queue_up(WaitsOn, {"on": Int(gate)}) for _ in range(n_chains)}
        held = _wait_until(_held(paths, pids, set()), timeout, f"{n_chains} chains held")
        victims = {worker.os_pid for worker in live_workers(paths)}
        killed = time.perf_counter()
        for os_pid in victims:
            os.kill(os_pid, signal.SIGKILL)
        again = _wait_until(_held(paths, pids, victims), timeout, "every chain held again")
    finally:
        stop_daemon(home)
    return {
        "chains": n_chains,
        "workers": workers,
        "hold_seconds": held - first,
        "recovery_seconds": again - killed,
    }
