"""``python -m benchmarks``: run the workloads and print (and optionally save) the report.

Examples:
    python -m benchmarks --quick --json /tmp/bench.json
    python -m benchmarks --workload workfunction_add --workload pykka_ask --repeats 7
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import structlog
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from benchmarks.harness import MemoryMeter, WorkloadResult, run_workload
from benchmarks.peers import PEERS
from benchmarks.report import load_average, machine_facts, print_table, write_json
from benchmarks.workloads import WORKLOADS, select, workload_names

QUICK_REPEATS = 3
FULL_REPEATS = 5
DEFAULT_SEED = 20240501


def _configure_logging() -> None:
    # The library logs an info event when it creates a database: one per workload here, which
    # would interleave with the progress bar. Warnings and errors still reach stderr.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time workactors (and its building blocks) on standard workloads.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small N and 3 repeats: well under a minute"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help=f"repeats per workload (default {FULL_REPEATS}, {QUICK_REPEATS} with --quick; >= 1)",
    )
    parser.add_argument(
        "--workload",
        action="append",
        metavar="NAME",
        choices=workload_names(),
        help="run only this workload (repeatable); default all: " + ", ".join(workload_names()),
    )
    parser.add_argument(
        "--peer",
        action="append",
        metavar="NAME",
        choices=sorted(PEERS),
        help="run only this peer's workloads (repeatable); default all: " + ", ".join(PEERS),
    )
    parser.add_argument(
        "-n",
        "--iterations",
        type=int,
        default=None,
        help="timed iterations per repeat for every workload (default: each workload's own N)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the report as JSON")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of all randomness")
    parser.add_argument(
        "--base-dir",
        type=Path,
        default=None,
        help="where the temporary homes go (default: the system temp dir); fsync costs depend "
        "on its filesystem",
    )
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    return parser


def _list_workloads(console: Console) -> None:
    for workload in WORKLOADS:
        console.print(
            f"[bold]{workload.name}[/bold] ({workload.peer}, {workload.kind}, "
            f"N={workload.n}, quick N={workload.quick_n}): {workload.description}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected workloads; return 0 if all succeeded, 1 if any failed, 2 on bad usage."""
    _configure_logging()
    parser = _parser()
    args = parser.parse_args(argv)
    err = Console(stderr=True)
    if args.list:
        _list_workloads(Console())
        return 0
    repeats = (
        args.repeats
        if args.repeats is not None
        else (QUICK_REPEATS if args.quick else FULL_REPEATS)
    )
    if repeats < 1 or (args.iterations is not None and args.iterations < 1):
        parser.error("--repeats and --iterations must be at least 1")
    workloads = select(args.workload, args.peer)
    skipped = sorted({w.peer for w in workloads if not PEERS[w.peer].is_available()})
    if skipped:
        err.print(f"[yellow]skipping peers not installed here: {', '.join(skipped)}[/yellow]")
    workloads = [w for w in workloads if w.peer not in skipped]
    if not workloads:
        parser.error("nothing to run")
    base_dir = (args.base_dir or Path(tempfile.gettempdir())).resolve()
    base_dir.mkdir(parents=True, exist_ok=True)

    load_at_start = load_average()
    cpus = os.cpu_count() or 1
    if load_at_start is not None and load_at_start[0] > cpus / 2:
        err.print(
            f"[yellow]the machine is busy (load {load_at_start[0]:.2f} on {cpus} CPUs): "
            "expect noisy figures[/yellow]"
        )
    memory = MemoryMeter()
    results: list[WorkloadResult] = []
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description:<32}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        refresh_per_second=4,
    ) as progress:
        for workload in workloads:
            iterations = args.iterations or (workload.quick_n if args.quick else workload.n)
            task = progress.add_task(
                f"{workload.peer}/{workload.name}", total=workload.warmup + repeats * iterations
            )
            result = run_workload(
                workload,
                PEERS[workload.peer],
                iterations=iterations,
                repeats=repeats,
                seed=args.seed,
                memory=memory,
                base_dir=base_dir,
                progress=lambda done, task=task: progress.advance(task, done),
            )
            results.append(result)
            if not result.ok:
                err.print(f"[red]{workload.key} failed: {result.error}[/red]")
    duration = time.perf_counter() - started

    mode = "quick" if args.quick else "full"
    print_table(
        results,
        f"workactors benchmarks ({mode}, median of {repeats} repeats, {duration:.1f} s); "
        "p50/p95 = latency per process; x = per-process cost / primitive op cost",
    )
    if args.json is not None:
        write_json(
            args.json,
            results,
            machine=machine_facts(base_dir, memory),
            config={
                "mode": mode,
                "repeats": repeats,
                "iterations_override": args.iterations,
                "seed": args.seed,
                "workloads": [w.key for w in workloads],
                "argv": list(sys.argv[1:] if argv is None else argv),
                "duration_s": round(duration, 3),
                "load_average_at_start": load_at_start,
            },
        )
        err.print(f"wrote {args.json}")
    return 0 if all(result.ok for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
