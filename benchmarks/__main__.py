"""``python -m benchmarks``: run the workloads and print (and optionally save) the report.

Examples:
    python -m benchmarks --quick --json /tmp/bench.json
    python -m benchmarks --peer aiida --json benchmarks/results/today.json
    python -m benchmarks --peer aiida,dbos --json /tmp/bench.json --plot /tmp/plots
    python -m benchmarks --workload scale_wait --scale-n 2000 --scale-n aiida=20
    python -m benchmarks --curves --curve-sizes 1000,10000,100000 --json /tmp/curves.json
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import structlog
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from benchmarks import compare, curves, databases, durability, plots
from benchmarks.bytecode import children_cache_bytecode
from benchmarks.dbos_peer.client import SETTINGS as DBOS_SETTINGS
from benchmarks.figures import WorkloadResult
from benchmarks.harness import run_group
from benchmarks.machine import load_average, machine_facts
from benchmarks.meters import MemoryMeter
from benchmarks.peers import PEERS
from benchmarks.report import build_document, print_comparison, print_table, write_json
from benchmarks.venv_peer.client import VenvPeer
from benchmarks.workloads import (
    WORKLOADS,
    Workload,
    aiida_core,
    dbos,
    groups,
    select,
    workload_names,
)
from benchmarks.workloads.base import ProgressCallback

QUICK_REPEATS = 3
FULL_REPEATS = 5
DEFAULT_SEED = 20240501
PEER_NOTES: dict[str, tuple[dict[str, str], dict[str, str], bool]] = {
    "aiida": (aiida_core.NOT_PORTED, aiida_core.NOTES, False),
    "dbos": (dbos.NOT_PORTED, dbos.NOTES, True),
}
"""Per peer: why a workload has no counterpart, what differs, and whether to list only pairs."""


def _configure_logging() -> None:
    # The library logs an info event when it creates a database: one per workload here, which
    # would interleave with the progress bar. Warnings and errors still reach stderr.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )


def _scale_size(text: str) -> tuple[str | None, int]:
    peer, _, size = text.rpartition("=")
    try:
        value = int(size.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected N or PEER=N") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: N must be at least 1")
    return (peer or None), value


def _name_list(choices: Sequence[str]) -> Callable[[str], list[str]]:
    """``a,b`` (and repeated flags, appended): names checked against ``choices``."""

    def parse(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in choices]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"{text!r}: expected one or more of {', '.join(choices)} (comma-separated)"
            )
        return names

    return parse


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected N[,N...]") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected positive integers")
    return values


def _venv_choice(text: str) -> tuple[str | None, Path]:
    peer, _, folder = text.rpartition("=")
    if peer and peer not in PEERS:
        raise argparse.ArgumentTypeError(f"{text!r}: unknown peer {peer!r}")
    return (peer or None), Path(folder)


def _flatten(lists: list[list[str]] | None) -> list[str]:
    return list(dict.fromkeys(name for names in lists or [] for name in names))


def _parser() -> argparse.ArgumentParser:
    opt_in = sorted(name for name, peer in PEERS.items() if peer.opt_in)
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time workactors (and its building blocks, and optionally aiida-core and "
        "DBOS Transact) on the same workloads.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small N, 3 repeats, SQLite only, one daemon worker: about a minute (what CI runs)",
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
        type=_name_list(opt_in),
        metavar="NAME[,NAME]",
        default=[],
        help="also run these peers, interleaved with workactors (comma list or repeated): "
        + ", ".join(opt_in)
        + "; each is installed in its own virtual environment on first use",
    )
    parser.add_argument(
        "--only-peer",
        action="append",
        type=_name_list(sorted(PEERS)),
        metavar="NAME[,NAME]",
        help="run only these peers' workloads (comma list or repeated): " + ", ".join(PEERS),
    )
    parser.add_argument(
        "--peer-venv",
        action="append",
        type=_venv_choice,
        metavar="[PEER=]DIR",
        default=[],
        help="virtual environment of a peer (aiida if PEER is left out), created if missing "
        "(default $XDG_CACHE_HOME/workactors-bench/<peer>-venv)",
    )
    parser.add_argument(
        "--database",
        action="append",
        type=_name_list(databases.DATABASES),
        metavar="DB[,DB]",
        help="databases of the workloads that exist on both (workfunction_add, daemon_steps, "
        "daemon_fanout, cold_start): sqlite, postgresql (default both; sqlite with --quick); "
        "PostgreSQL ones are skipped if the server is unreachable",
    )
    parser.add_argument(
        "--postgres-url",
        metavar="URL",
        help="PostgreSQL server whose database gets a fresh schema (workactors) or a fresh "
        f"database (DBOS) per workload, dropped afterwards (default {databases.postgres_url()})",
    )
    parser.add_argument(
        "--curves",
        action="store_true",
        help="run the scaling curves instead of the workloads: daemon_steps with "
        "--curve-workers workers and scale_wait with --curve-sizes waiting work chains",
    )
    parser.add_argument(
        "--curve-workers",
        type=_int_list,
        default=list(curves.DEFAULT_WORKERS),
        metavar="N[,N]",
        help="daemon workers per point (default 1,2,4)",
    )
    parser.add_argument(
        "--curve-sizes",
        type=_int_list,
        default=list(curves.DEFAULT_SIZES),
        metavar="N[,N]",
        help="scale_wait batch sizes (default 1000,10000; 100000 takes about 10 min a repeat)",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        metavar="DIR",
        help="write PNG and SVG plots (ratios, curves) to DIR; needs matplotlib "
        "(pip install -e '.[plot]')",
    )
    parser.add_argument(
        "--scale-n",
        action="append",
        type=_scale_size,
        metavar="[PEER=]N",
        default=[],
        help="work chains per batch of scale_wait, for every peer or for PEER "
        "(defaults: workactors 10,000, quick 200; aiida 50, quick 10); it also sizes the "
        "batches of the daemon workloads (chains, parents), the processes of the query, "
        "web and archive workloads, and DBOS's batches",
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
        missing = f" [yellow](unavailable: {escape(workload.unavailable or '')})[/yellow]"
        console.print(
            f"[bold]{workload.label}[/bold] ({workload.peer}, {workload.kind}, "
            f"N={workload.n}, quick N={workload.quick_n}): {escape(workload.description)}"
            + (missing if workload.unavailable else "")
        )


def _sized(workload: Workload, quick: bool, scale_n: list[tuple[str | None, int]]) -> Workload:
    """The workload with the batch size ``--quick`` or ``--scale-n`` asks for."""
    if workload.resize is None:
        return workload
    batch = workload.quick_batch if quick else workload.batch
    for peer, size in scale_n:
        if peer is None or peer == workload.peer:
            batch = size
    if batch is None or batch == workload.batch:
        return workload
    return workload.resize(batch)


def _peers_wanted(args: argparse.Namespace) -> list[str]:
    if args.only_peer:
        return _flatten(args.only_peer)
    asked = _flatten(args.peer)
    return [name for name, peer in PEERS.items() if not peer.opt_in or name in asked]


def _databases_wanted(args: argparse.Namespace) -> list[str]:
    if args.database:
        return _flatten(args.database)
    return [databases.SQLITE] if args.quick else list(databases.DATABASES)


def _prepare_peers(
    workloads: list[Workload], err: Console
) -> tuple[list[Workload], dict[str, str]]:
    """Install what opt-in peers need; drop the workloads of a peer that cannot run."""
    failed: dict[str, str] = {}
    for name in dict.fromkeys(w.peer for w in workloads):
        try:
            PEERS[name].prepare(lambda text: err.print(f"[cyan]{escape(text)}[/cyan]"))
        except Exception as exc:
            failed[name] = f"{type(exc).__name__}: {exc}"
            err.print(f"[red]peer {name} cannot run: {escape(failed[name])}[/red]")
    return [w for w in workloads if w.peer not in failed], failed


def _warn_if_busy(err: Console) -> list[float] | None:
    load = load_average()
    cpus = os.cpu_count() or 1
    if load is not None and load[0] > cpus / 2:
        err.print(
            f"[yellow]the machine is busy (load {load[0]:.2f} on {cpus} CPUs): "
            "expect noisy figures[/yellow]"
        )
    return load


def _run_all(
    workloads: list[Workload],
    args: argparse.Namespace,
    *,
    repeats: int,
    memory: MemoryMeter,
    base_dir: Path,
    err: Console,
) -> list[WorkloadResult]:
    """Every group of same-named workloads in turn, under one progress display (every curve
    point alone: its peak RSS and threads must be its own)."""
    results: list[WorkloadResult] = []

    def iterations(workload: Workload) -> int:
        return int(args.iterations or (workload.quick_n if args.quick else workload.n))

    with Progress(
        TextColumn("{task.description:<44}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        refresh_per_second=4,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def progress_for(workload: Workload) -> ProgressCallback:
            effective = min(repeats, workload.max_repeats or repeats)
            task = progress.add_task(
                workload.key, total=workload.warmup + effective * iterations(workload)
            )
            tasks[workload.key] = task
            return lambda done: progress.advance(task, done)

        for group in [[w] for w in workloads] if args.curves else groups(workloads):
            group_results = run_group(
                group,
                PEERS,
                iterations=iterations,
                repeats=repeats,
                seed=args.seed,
                memory=memory,
                base_dir=base_dir,
                progress=progress_for,
            )
            for result in group_results:
                if not result.ok:
                    progress.stop_task(tasks[result.workload.key])
                    err.print(
                        f"[red]{result.workload.key} failed: {escape(result.error or '')}[/red]"
                    )
            results.extend(group_results)
    return results


def _workloads(
    args: argparse.Namespace, parser: argparse.ArgumentParser, err: Console
) -> tuple[list[Workload], dict[str, str]]:
    """What the arguments select and size, minus what cannot run here (and why)."""
    for peer_name, folder in args.peer_venv:
        peer = PEERS[peer_name or "aiida"]
        if isinstance(peer, VenvPeer):
            peer.configure(folder)
    databases.configure_postgres(args.postgres_url)
    if args.curves:
        workloads = curves.workloads(args.curve_workers, args.curve_sizes, quick=args.quick)
    else:
        wanted = _peers_wanted(args)
        on = _databases_wanted(args)
        workloads = [
            _sized(w, args.quick, args.scale_n)
            for w in select(args.workload, None)
            if w.peer in wanted and w.database in on and (w.quick or not args.quick)
        ]
    if any(w.database == databases.POSTGRESQL for w in workloads) and (
        reason := databases.postgres_unavailable()
    ):
        workloads = [
            replace(w, unavailable=reason) if w.database == databases.POSTGRESQL else w
            for w in workloads
        ]
    skipped = {w.key: w.unavailable for w in workloads if w.unavailable is not None}
    for key, reason in skipped.items():
        err.print(f"[yellow]skipping {key}: {escape(reason)}[/yellow]")
    workloads = [w for w in workloads if w.unavailable is None]
    if not workloads:
        parser.error("nothing to run")
    workloads, peer_errors = _prepare_peers(workloads, err)
    skipped.update({f"{peer}/*": reason for peer, reason in peer_errors.items()})
    return workloads, skipped


def _comparisons(results: list[WorkloadResult]) -> dict[str, list[compare.Comparison]]:
    comparisons = {}
    for peer in dict.fromkeys(r.workload.peer for r in results):
        if not PEERS[peer].opt_in:
            continue
        not_ported, notes, paired_only = PEER_NOTES.get(peer, ({}, {}, True))
        items = compare.compare(results, peer, not_ported, notes, paired_only=paired_only)
        if items:
            comparisons[peer] = items
    return comparisons


def _durability(results: list[WorkloadResult]) -> list[dict[str, str]]:
    """The durability table, if DBOS ran (it is the durable comparison)."""
    ran = [
        (r.workload.peer, r.workload.database)
        for r in results
        if r.workload.name in durability.DURABLE_WORKLOADS and r.workload.peer != "baseline"
    ]
    if not any(peer == "dbos" for peer, _database in ran):
        return []
    postgres = None
    if any(database == databases.POSTGRESQL for _peer, database in ran):
        postgres = databases.server_settings()
    return durability.rows(ran, postgres=postgres, dbos_sqlite=PEERS["dbos"].facts().get("sqlite"))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected workloads; return 0 if all succeeded, 1 if any failed, 2 on bad usage."""
    parser = _parser()
    args = parser.parse_args(argv)
    err = Console(stderr=True)
    if args.list:
        _list_workloads(Console())
        return 0
    if args.plot is not None:
        try:
            plots.require_matplotlib()
        except plots.PlotError as exc:
            parser.error(str(exc))
    repeats = (
        args.repeats
        if args.repeats is not None
        else (QUICK_REPEATS if args.quick else FULL_REPEATS)
    )
    if repeats < 1 or (args.iterations is not None and args.iterations < 1):
        parser.error("--repeats and --iterations must be at least 1")
    workloads, skipped = _workloads(args, parser, err)
    children_cache_bytecode()
    base_dir = (args.base_dir or Path(tempfile.gettempdir())).resolve()
    base_dir.mkdir(parents=True, exist_ok=True)
    load_at_start = _warn_if_busy(err)
    memory = MemoryMeter()
    started = time.perf_counter()
    results = _run_all(workloads, args, repeats=repeats, memory=memory, base_dir=base_dir, err=err)
    duration = time.perf_counter() - started

    mode = "quick" if args.quick else "full"
    print_table(
        results,
        f"workactors benchmarks ({mode}, median of {repeats} repeats, {duration:.1f} s); "
        "p50/p95 = latency per process; x = per-process cost / primitive op cost",
    )
    comparisons = _comparisons(results)
    for peer, items in comparisons.items():
        print_comparison(items, peer)
    extra: dict[str, Any] = {}
    described = _durability(results)
    if described:
        Console(width=220).print(durability.build_table(described))
        Console(width=220).print(f"dbos settings: {escape(DBOS_SETTINGS)}")
        extra["durability"] = described
    if args.curves:
        extra["curves"] = curves.points(results)
        Console(width=220).print(curves.build_table(extra["curves"]))
    used = dict.fromkeys(w.peer for w in workloads)
    document = build_document(
        results,
        machine=machine_facts(base_dir, memory.method),
        peers={name: {"version": PEERS[name].version(), **PEERS[name].facts()} for name in used},
        comparisons=comparisons,
        skipped=skipped,
        config={
            "mode": mode,
            "repeats": repeats,
            "iterations_override": args.iterations,
            "scale_n": [list(item) for item in args.scale_n],
            "databases": _databases_wanted(args),
            "curves": {"workers": args.curve_workers, "sizes": args.curve_sizes}
            if args.curves
            else None,
            "seed": args.seed,
            "workloads": [w.key for w in workloads],
            "argv": list(sys.argv[1:] if argv is None else argv),
            "duration_s": round(duration, 3),
            "load_average_at_start": load_at_start,
        },
        extra=extra,
    )
    if args.json is not None:
        write_json(args.json, document)
        err.print(f"wrote {args.json}")
    if args.plot is not None:
        try:
            for path in plots.plot_report(document, args.plot):
                err.print(f"wrote {path}")
        except plots.PlotError as exc:
            err.print(f"[yellow]no plot: {escape(str(exc))}[/yellow]")
    failed = any(key.endswith("/*") for key in skipped) or not all(r.ok for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    # Configured by the program, not by main(): `workactors bench` calls main() under the CLI,
    # which has configured logging for its own process already.
    _configure_logging()
    sys.exit(main())
