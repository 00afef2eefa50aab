"""The report: a rich table for people and JSON for machines, from the same figures.

Both are built from ``WorkloadResult`` objects only; nothing is estimated or filled in. The JSON
also keeps every repeat's raw throughput and latency percentiles and the facts of the machine,
since a benchmark figure without its machine cannot be compared with anything.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import platform
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.table import Table

from benchmarks.harness import MB, MemoryMeter, WorkloadResult, engine_and_primitives, percentile
from benchmarks.peers import PEERS

JSON_SCHEMA_VERSION = 1


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    """Output of a read-only git command in the source tree, None outside a checkout."""
    import actors

    source = Path(actors.__file__).resolve().parent.parent
    try:
        completed = subprocess.run(
            ["git", *args], cwd=source, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return completed.stdout.strip()


def filesystem_of(path: Path) -> dict[str, str] | None:
    """Mount point and filesystem type holding ``path``: fsync costs depend on it (tmpfs lies)."""
    resolved = str(path.resolve())
    best: Any = None
    for partition in psutil.disk_partitions(all=True):
        mount = partition.mountpoint
        inside = resolved == mount or resolved.startswith(mount.rstrip(os.sep) + os.sep)
        if inside and (best is None or len(mount) > len(best.mountpoint)):
            best = partition
    if best is None:
        return None
    return {"mountpoint": best.mountpoint, "fstype": best.fstype, "device": best.device}


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages: other work on the machine shows up as noise."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def machine_facts(temporary_base: Path, memory: MemoryMeter) -> dict[str, Any]:
    """What the figures depend on besides the code: hardware, OS, interpreter, versions."""
    commit = _git("rev-parse", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    frequency = psutil.cpu_freq()
    return {
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "hostname": platform.node(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count_logical": os.cpu_count(),
        "cpu_count_physical": psutil.cpu_count(logical=False),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_max_mhz": round(frequency.max) if frequency and frequency.max else None,
        "memory_total_mb": round(psutil.virtual_memory().total / MB),
        "python_version": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "sqlite_version": sqlite3.sqlite_version,
        "workactors_version": _version("workactors"),
        "git_commit": commit or None,
        "git_dirty": bool(dirty) if dirty is not None else None,
        "libraries": {
            name: _version(name) for name in ("pykka", "sqlalchemy", "structlog", "msgpack")
        },
        "temporary_base": str(temporary_base),
        "temporary_filesystem": filesystem_of(temporary_base),
        "peak_rss_method": memory.method,
        "load_average_at_end": load_average(),
    }


def _mb(value: int | None) -> str:
    return "—" if value is None else f"{value / MB:.1f}"


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def cost_multiples(
    result: WorkloadResult, primitives: Sequence[WorkloadResult]
) -> dict[str, float]:
    """Per-process cost of an engine workload as a multiple of each primitive's per-op cost."""
    return {p.workload.name: result.seconds_per_process / p.seconds_per_process for p in primitives}


def build_table(results: Sequence[WorkloadResult], title: str) -> Table:
    """One row per workload; a ``x name`` column per primitive that ran, filled for engines."""
    _engine, primitives = engine_and_primitives(results)
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("peer")
    table.add_column("workload")
    table.add_column("N", justify="right")
    table.add_column("rep", justify="right")
    table.add_column("median /s", justify="right")
    table.add_column("min-max /s", justify="right")
    table.add_column("p50 ms", justify="right")
    table.add_column("p95 ms", justify="right")
    table.add_column("peak RSS MB", justify="right")
    table.add_column("ΔRSS MB", justify="right")
    table.add_column("DB MB", justify="right")
    for primitive in primitives:
        table.add_column(f"x {primitive.workload.name}", justify="right")
    for result in results:
        workload = result.workload
        label = workload.name
        if workload.processes_per_iteration > 1:
            label += f" ({workload.processes_per_iteration}/it)"
        if not result.ok:
            table.add_row(
                workload.peer,
                label,
                str(result.iterations),
                str(len(result.repeat_results)),
                f"[red]failed: {result.error}[/red]",
            )
            continue
        throughputs = result.throughputs()
        multiples = cost_multiples(result, primitives) if workload.kind == "engine" else {}
        table.add_row(
            workload.peer,
            label,
            str(result.iterations),
            str(len(result.repeat_results)),
            f"{_rate(result.median_throughput)} {workload.unit[:4]}",
            f"{_rate(min(throughputs))}-{_rate(max(throughputs))}",
            f"{result.latency_percentile_ms(50):.3f}",
            f"{result.latency_percentile_ms(95):.3f}",
            _mb(result.peak_rss),
            f"{(result.rss_after - result.rss_before) / MB:+.1f}",
            _mb(result.database_bytes),
            *(f"{multiples[p.workload.name]:,.1f}" if multiples else "" for p in primitives),
        )
    return table


def print_table(
    results: Sequence[WorkloadResult], title: str, console: Console | None = None
) -> None:
    """Print the table to stdout, wide enough not to wrap numbers when stdout is a pipe."""
    console = console or Console()
    if not console.is_terminal:
        console = Console(width=200)
    console.print(build_table(results, title))


def result_to_dict(result: WorkloadResult, primitives: Sequence[WorkloadResult]) -> dict[str, Any]:
    """The JSON form of one result: summary figures plus every repeat's own."""
    workload = result.workload
    data: dict[str, Any] = {
        "workload": workload.name,
        "peer": workload.peer,
        "peer_version": PEERS[workload.peer].version() if workload.peer in PEERS else None,
        "kind": str(workload.kind),
        "description": workload.description,
        "unit": workload.unit,
        "processes_per_iteration": workload.processes_per_iteration,
        "iterations_per_repeat": result.iterations,
        "warmup_iterations": workload.warmup,
        "repeats": len(result.repeat_results),
        "ok": result.ok,
        "error": result.error,
        "duration_s": round(result.duration_seconds, 3),
        "memory": {
            "rss_before_mb": round(result.rss_before / MB, 2),
            "rss_after_mb": round(result.rss_after / MB, 2),
            "rss_delta_mb": round((result.rss_after - result.rss_before) / MB, 2),
            "peak_rss_mb": round(result.peak_rss / MB, 2),
        },
        "database_mb": None
        if result.database_bytes is None
        else round(result.database_bytes / MB, 3),
        "database_bytes": result.database_bytes,
    }
    if not result.ok:
        return data
    throughputs = result.throughputs()
    per_iteration = workload.processes_per_iteration
    data.update(
        {
            "throughput_per_s": {
                "median": result.median_throughput,
                "min": min(throughputs),
                "max": max(throughputs),
            },
            "latency_per_process_ms": {
                "p50": result.latency_percentile_ms(50),
                "p95": result.latency_percentile_ms(95),
            },
            "seconds_per_process": result.seconds_per_process,
            "database_bytes_per_process": None
            if result.database_bytes is None
            else result.database_bytes
            / ((result.iterations * len(result.repeat_results) + workload.warmup) * per_iteration),
            "repeat_results": [
                {
                    "wall_s": repeat.wall_seconds,
                    "throughput_per_s": per_iteration * repeat.iterations / repeat.wall_seconds,
                    "latency_per_process_ms": {
                        q: percentile(repeat.latencies, pct) * 1000 / per_iteration
                        for q, pct in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))
                    },
                }
                for repeat in result.repeat_results
            ],
        }
    )
    if workload.kind == "engine":
        data["cost_multiple_of_primitive"] = cost_multiples(result, primitives)
    return data


def write_json(
    path: Path,
    results: Sequence[WorkloadResult],
    *,
    machine: dict[str, Any],
    config: dict[str, Any],
) -> None:
    """Write the report as JSON to ``path`` (parents created)."""
    _engine, primitives = engine_and_primitives(results)
    document = {
        "schema_version": JSON_SCHEMA_VERSION,
        "machine": machine,
        # Lifetime peak of the benchmark process, whatever the per-workload method was.
        "process_max_rss_mb": round(MemoryMeter.max_rss() / MB, 2),
        "config": config,
        "results": [result_to_dict(result, primitives) for result in results],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
