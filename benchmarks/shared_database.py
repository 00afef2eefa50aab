"""The daemon on a shared PostgreSQL database: ``python -m benchmarks.shared_database --url URL``.

Not part of the quick harness run (it needs a PostgreSQL server and takes minutes): it prints

- durable steps/s with 1, 2 and 4 workers in one daemon, and with two daemons of two workers
  on homes of their own (two "machines"): per configuration the daemons start once, a warm-up
  batch runs untimed, then ``--repeats`` timed batches of ``--chains`` chains of ``--steps``
  steps; the median, min and max over the repeats, how the median scales with the workers,
  and the checkpoints' median sizes (prefix, envelope, payload, total bytes);
- submit-to-first-step latency, p50 and p95: one process at a time submitted to an idle daemon,
  timed from before ``queue_up`` to the start of its first step (the same clock: one host),
  after a few untimed warm-up samples;
- takeover time: every worker and the supervisor of one daemon killed with SIGKILL while it
  holds waiting chains, timed until a second daemon holds them all.

Each configuration uses a fresh schema of the database named by ``--url``, dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from actors.daemon.manage import START_TIMEOUT, start_daemon, stop_daemon
from actors.daemon.paths import DaemonPaths
from actors.daemon.status import DaemonState, live_workers
from actors.daemon.workload import (
    SIZE_SAMPLE_FILES,
    CheckpointSizes,
    CountingChain,
    FirstStepClock,
    Never,
    WaitsOn,
    sampling,
)
from actors.runtime import Runtime
from benchmarks.databases import fresh_schema
from persistence.codec import SIZES_PREFIX
from persistence.memory_store import InMemoryStore
from provenance.data import Float, Int
from provenance.process_nodes import ProcessNode
from provenance.process_state import ProcessState

POLL = 0.005
#: Throughput batches last seconds: a look every 20 ms costs the database (and so the workers
#: measured) a quarter of what the latency's 5 ms would, for under 1% of resolution.
THROUGHPUT_POLL = 0.02
TIMEOUT = 600.0


def wait_for(
    condition: Callable[[], bool], what: str, timeout: float = TIMEOUT, poll: float = POLL
) -> float:
    """Poll ``condition`` until true; the moment it became so (``time.perf_counter``)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:g} s")
        time.sleep(poll)
    return time.perf_counter()


def all_ended(url: str, pids: Sequence[int]) -> Callable[[], bool]:
    """True once no process of ``pids`` is running any more (its checkpoint row says so)."""
    engine = sa.create_engine(url)
    query = sa.text(
        "SELECT count(*) FROM wa_checkpoint WHERE pid = ANY(:pids) AND status <> 'running'"
    )

    def done() -> bool:
        with engine.connect() as connection:
            return int(connection.execute(query, {"pids": list(pids)}).scalar_one()) == len(pids)

    return done


def _sizes_sampler(url: str, sizes: CheckpointSizes) -> Callable[[Sequence[int] | None], None]:
    """Count the headers of a few running checkpoints (``pids`` None) or of ``pids``' rows."""
    engine = sa.create_engine(url)
    running = sa.text(
        "SELECT substring(data from 1 for :n) FROM wa_checkpoint "
        "WHERE status = 'running' AND data IS NOT NULL LIMIT :limit"
    )
    chosen = sa.text(
        "SELECT substring(data from 1 for :n) FROM wa_checkpoint "
        "WHERE pid = ANY(:pids) AND data IS NOT NULL"
    )

    def sample(pids: Sequence[int] | None = None) -> None:
        with engine.connect() as connection:
            if pids is None:
                rows = connection.execute(running, {"n": SIZES_PREFIX, "limit": SIZE_SAMPLE_FILES})
            else:
                rows = connection.execute(chosen, {"n": SIZES_PREFIX, "pids": list(pids)})
            for (head,) in rows:
                sizes.add(bytes(head))

    return sample


def _batch(
    runtime: Runtime, url: str, chains: int, steps: int, sample: Callable[..., None] | None
) -> float:
    """Submit ``chains`` chains, wait for their end, check their totals; the seconds taken."""
    first = time.perf_counter()
    pids = [
        runtime.queue_up(CountingChain, {"steps": Int(steps), "start": Int(index)})
        for index in range(chains)
    ]
    done = all_ended(url, pids)
    if sample is not None:
        done = sampling(done, sample)
    ended = wait_for(done, f"the end of {chains} chains", poll=THROUGHPUT_POLL)
    if sample is not None:
        sample(pids)
    for index, pid in enumerate(pids):
        node = runtime.load_node(pid)
        assert isinstance(node, ProcessNode)
        assert node.process_state is ProcessState.FINISHED, (pid, node.process_state)
        total = node.get_outputs_dict()["total"]
        assert isinstance(total, Int)
        assert total.value == CountingChain.expected(steps, index)
    return ended - first


def throughput(  # noqa: PLR0917 - the figures of one configuration, named at one call
    url: str,
    folder: Path,
    homes: int,
    workers: int,
    chains: int,
    steps: int,
    repeats: int,
    warmup_chains: int,
) -> dict[str, Any]:
    """Durable steps/s of ``chains`` chains of ``steps`` steps on ``homes`` daemons of
    ``workers`` workers each, all on ``url``: ``repeats`` timed batches after an untimed
    warm-up batch of ``warmup_chains`` chains, on the same daemons."""
    daemons = [folder / f"machine-{index}" for index in range(homes)]
    for home in daemons:
        start_daemon(home, workers, database_url=url, timeout=START_TIMEOUT, cwd=os.getcwd())
    sizes = CheckpointSizes()
    rates: list[float] = []
    try:
        with Runtime(folder / "submitter", database_url=url) as runtime:
            if warmup_chains:
                _batch(runtime, url, warmup_chains, steps, None)
            sample = _sizes_sampler(url, sizes)
            for _ in range(repeats):
                rates.append(chains * steps / _batch(runtime, url, chains, steps, sample))
    finally:
        for home in daemons:
            stop_daemon(home)
    return {
        "daemons": homes,
        "workers_each": workers,
        "workers": homes * workers,
        "chains": chains,
        "steps": steps,
        "repeats": repeats,
        "warmup_chains": warmup_chains,
        "durable_steps_per_second": round(statistics.median(rates), 1),
        "min": round(min(rates), 1),
        "max": round(max(rates), 1),
        "per_repeat": [round(rate, 1) for rate in rates],
        "checkpoint_bytes": sizes.summary(),
    }


def scaling(figures: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """How the median throughput of each configuration compares with one worker's."""
    single = [f for f in figures if f["workers"] == 1]
    base = single[0]["durable_steps_per_second"] if single else None
    return [
        {
            "daemons": f["daemons"],
            "workers": f["workers"],
            "durable_steps_per_second": f["durable_steps_per_second"],
            "per_worker": round(f["durable_steps_per_second"] / f["workers"], 1),
            "x_one_worker": round(f["durable_steps_per_second"] / base, 2) if base else None,
        }
        for f in figures
    ]


def latency(url: str, folder: Path, samples: int, warmup: int = 5) -> dict[str, Any]:
    """Submit-to-first-step latency of ``samples`` processes, one at a time, idle daemon, after
    ``warmup`` untimed ones."""
    home = folder / "latency"
    start_daemon(home, 1, database_url=url, timeout=START_TIMEOUT, cwd=os.getcwd())
    delays: list[float] = []
    try:
        with Runtime(folder / "submitter-latency", database_url=url) as runtime:
            for _ in range(warmup):
                wait_for(all_ended(url, [runtime.queue_up(FirstStepClock, {})]), "a warm-up step")
            for _ in range(samples):
                before = time.time()
                pid = runtime.queue_up(FirstStepClock, {})
                wait_for(all_ended(url, [pid]), "a first step")
                node = runtime.load_node(pid)
                assert isinstance(node, ProcessNode)
                started = node.get_outputs_dict()["started"]
                assert isinstance(started, Float)
                delays.append(started.value - before)
    finally:
        stop_daemon(home)
    delays.sort()
    return {
        "samples": samples,
        "warmup": warmup,
        "p50_ms": round(1000 * statistics.median(delays), 1),
        "p95_ms": round(1000 * delays[min(len(delays) - 1, int(0.95 * len(delays)))], 1),
    }


def takeover(url: str, folder: Path, chains: int, lease: float) -> dict[str, Any]:
    """Seconds from SIGKILL of a whole daemon to another daemon holding all its chains."""
    victim, survivor = folder / "victim", folder / "survivor"
    start_daemon(victim, 2, database_url=url, timeout=START_TIMEOUT, cwd=os.getcwd())
    try:
        with Runtime(folder / "submitter-takeover", database_url=url) as runtime:
            gate = runtime.queue_up(Never, {}, storage=InMemoryStore())
            pids = [runtime.queue_up(WaitsOn, {"on": Int(gate)}) for _ in range(chains)]
        engine = sa.create_engine(url)

        def held_by(home: Path) -> Callable[[], bool]:
            query = sa.text(
                "SELECT count(*) FROM wa_checkpoint AS c JOIN wa_worker AS w ON w.id = c.owner "
                "WHERE c.pid = ANY(:pids) AND w.home = :home AND w.lease_expires > now()"
            )

            def done() -> bool:
                with engine.connect() as connection:
                    found = connection.execute(query, {"pids": pids, "home": str(home)})
                    return int(found.scalar_one()) == len(pids)

            return done

        wait_for(held_by(victim), "every chain held by the victim")
        start_daemon(survivor, 2, database_url=url, timeout=START_TIMEOUT, cwd=os.getcwd())
        paths = DaemonPaths.of(victim)
        state = DaemonState.read(paths)
        doomed = [worker.os_pid for worker in live_workers(paths)]
        killed = time.perf_counter()
        if state is not None:
            os.kill(state.os_pid, signal.SIGKILL)
        for os_pid in doomed:
            os.kill(os_pid, signal.SIGKILL)
        again = wait_for(held_by(survivor), "every chain held by the survivor")
    finally:
        for home in (survivor, victim):
            try:
                stop_daemon(home)
            except Exception as exc:  # the victim's supervisor is dead: nothing to stop
                print(f"note: stopping {home.name}: {exc}", file=sys.stderr)
    return {
        "chains": chains,
        "lease_seconds": lease,
        "takeover_seconds": round(again - killed, 3),
        "takeover_over_lease": round((again - killed) / lease, 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the shared-database figures; print them as JSON lines (and to ``--json``)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.shared_database")
    parser.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--chains", type=int, default=100, help="chains per timed batch")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3, help="timed batches per configuration")
    parser.add_argument("--warmup-chains", type=int, default=20, help="untimed first batch")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--daemons", type=int, default=2, help="daemons of 2 workers (0: none)")
    parser.add_argument("--samples", type=int, default=40, help="latency samples")
    parser.add_argument("--takeover-chains", type=int, default=50)
    parser.add_argument("--skip", nargs="*", default=[], choices=["latency", "takeover"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be 1 or more")
    lease = float(os.environ.get("WORKACTORS_LEASE_SECONDS", "5"))
    results: list[dict[str, Any]] = []

    def report(kind: str, figures: dict[str, Any]) -> None:
        results.append({"kind": kind, **figures})
        print(json.dumps(results[-1]), flush=True)

    with tempfile.TemporaryDirectory() as scratch:
        key = Path(scratch) / "shared.key"
        key.write_bytes(os.urandom(32))
        key.chmod(0o600)
        os.environ["WORKACTORS_CHECKPOINT_KEY_FILE"] = str(key)
        runs = [(1, count) for count in args.workers] + (
            [(args.daemons, 2)] if args.daemons else []
        )
        measured = []
        for index, (homes, workers) in enumerate(runs):
            with fresh_schema(args.url) as url:
                folder = Path(scratch) / f"throughput-{index}"
                figures = throughput(
                    url,
                    folder,
                    homes,
                    workers,
                    args.chains,
                    args.steps,
                    args.repeats,
                    args.warmup_chains,
                )
            measured.append(figures)
            report("throughput", figures)
        for line in scaling(measured):
            report("scaling", line)
        if "latency" not in args.skip:
            with fresh_schema(args.url) as url:
                report("latency", latency(url, Path(scratch), args.samples))
        if "takeover" not in args.skip:
            with fresh_schema(args.url) as url:
                report("takeover", takeover(url, Path(scratch), args.takeover_chains, lease))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
