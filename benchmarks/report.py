"""The report: rich tables for people and JSON for machines, from the same figures.

Both are built from ``WorkloadResult`` objects only; nothing is estimated or filled in. The JSON
also keeps every repeat's raw throughput and latency percentiles, the facts of the machine and
the peers' settings, since a benchmark figure without its machine cannot be compared.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from benchmarks import compare
from benchmarks.figures import MB, WorkloadResult, engine_and_primitives, percentile
from benchmarks.meters import MemoryMeter
from benchmarks.peers import PEERS
from benchmarks.workloads.base import Kind

JSON_SCHEMA_VERSION = 3


def _mb(value: int | None) -> str:
    return "—" if value is None else f"{value / MB:.1f}"


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def cost_multiples(
    result: WorkloadResult, primitives: Sequence[WorkloadResult]
) -> dict[str, float]:
    """Per-process cost of an engine workload as a multiple of each primitive's per-op cost."""
    return {p.workload.name: result.seconds_per_process / p.seconds_per_process for p in primitives}


def _short(text: str, limit: int = 40) -> str:
    # The table keeps its columns; the whole error is in the log above it and in the JSON.
    text = text.splitlines()[0] if text else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _label(result: WorkloadResult) -> str:
    workload = result.workload
    label = workload.label
    if workload.processes_per_iteration > 1:
        label += f" ({workload.processes_per_iteration:,}/it)"
    return label


def build_table(results: Sequence[WorkloadResult], title: str) -> Table:
    """One row per workload; a ``x name`` column per primitive that ran, filled for engines."""
    _engine, primitives = engine_and_primitives(results)
    threads = any(r.peak_threads is not None for r in results)
    messages = any(r.ok and r.messages_per_process is not None for r in results)
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("peer")
    table.add_column("workload", no_wrap=True)
    for header in (
        "N",
        "rep",
        "median",
        "min-max /s",
        "p50 ms",
        "p95 ms",
        "wall s",
        "peak RSS MB",
    ):
        table.add_column(header, justify="right")
    if threads:
        table.add_column("peak thr", justify="right")
    if messages:
        table.add_column("msgs/proc", justify="right")
    table.add_column("ΔRSS MB", justify="right")
    table.add_column("DB MB", justify="right")
    for primitive in primitives:
        table.add_column(f"x {primitive.workload.name}", justify="right")
    for result in results:
        workload = result.workload
        first = [workload.peer, _label(result), str(result.iterations)]
        if not result.ok:
            error = escape(_short(result.error or ""))
            table.add_row(*first, str(len(result.repeat_results)), f"[red]failed: {error}[/red]")
            continue
        throughputs = result.throughputs()
        multiples = cost_multiples(result, primitives) if workload.kind is Kind.ENGINE else {}
        peak_threads = result.peak_threads
        per_process = result.messages_per_process
        table.add_row(
            *first,
            str(len(result.repeat_results)),
            f"{_rate(result.median_throughput)} {workload.unit}/s",
            f"{_rate(min(throughputs))}-{_rate(max(throughputs))}",
            f"{result.latency_percentile_ms(50):.3f}",
            f"{result.latency_percentile_ms(95):.3f}",
            f"{result.median_wall_seconds:.2f}",
            _mb(result.peak_rss),
            *([str(peak_threads) if peak_threads is not None else ""] if threads else []),
            *([f"{per_process:.1f}" if per_process is not None else ""] if messages else []),
            f"{(result.rss_after - result.rss_before) / MB:+.1f}",
            _mb(result.database_bytes),
            *(f"{multiples[p.workload.name]:,.1f}" if multiples else "" for p in primitives),
        )
    return table


def _console(console: Console | None) -> Console:
    # A pipe or a file has no width: render the table at its natural width there, so that no
    # cell (a unit such as "durable steps/s", a long workload label) is cut or wrapped.
    console = console or Console()
    return console if console.is_terminal else Console(file=console.file, width=10_000)


def print_table(
    results: Sequence[WorkloadResult], title: str, console: Console | None = None
) -> None:
    """Print the results table to stdout, then the workloads' other figures (notes)."""
    out = _console(console)
    out.print(build_table(results, title))
    for result in results:
        if result.ok and result.notes:
            figures = ", ".join(f"{name} {value:,.0f}" for name, value in result.notes.items())
            out.print(f"{result.workload.peer}/{result.workload.label}: {figures} (median)")


def print_comparison(
    comparisons: Sequence[compare.Comparison], peer: str, console: Console | None = None
) -> None:
    """Print the workactors/peer table to stdout."""
    title = (
        f"workactors / {peer}: ratio of median throughputs (x = times faster); paired = "
        "per interleaved repeat"
    )
    _console(console).print(compare.build_table(comparisons, peer, title))


def _repeat_dicts(result: WorkloadResult) -> list[dict[str, Any]]:
    per_iteration = result.workload.processes_per_iteration
    return [
        {
            "wall_s": repeat.wall_seconds,
            "throughput_per_s": per_iteration * repeat.iterations / repeat.wall_seconds,
            "peak_threads": repeat.peak_threads,
            "actor_messages": repeat.messages,
            "notes": dict(repeat.notes) if repeat.notes is not None else None,
            "latency_per_process_ms": {
                q: percentile(repeat.latencies, pct) * 1000 / per_iteration
                for q, pct in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))
            },
        }
        for repeat in result.repeat_results
    ]


def result_to_dict(result: WorkloadResult, primitives: Sequence[WorkloadResult]) -> dict[str, Any]:
    """The JSON form of one result: summary figures plus every repeat's own."""
    workload = result.workload
    data: dict[str, Any] = {
        "workload": workload.name,
        "variant": workload.variant or None,
        "label": workload.label,
        "database": workload.database,
        "peer": workload.peer,
        "peer_version": PEERS[workload.peer].version() if workload.peer in PEERS else None,
        "kind": str(workload.kind),
        "description": workload.description,
        "unit": workload.unit,
        "batch": workload.batch,
        "processes_per_iteration": workload.processes_per_iteration,
        "iterations_per_repeat": result.iterations,
        "warmup_iterations": workload.warmup,
        "repeats": len(result.repeat_results),
        "ok": result.ok,
        "error": result.error,
        "duration_s": round(result.duration_seconds, 3),
        "memory": {
            "method": result.memory_method,
            "rss_before_mb": round(result.rss_before / MB, 2),
            "rss_after_mb": round(result.rss_after / MB, 2),
            "rss_delta_mb": round((result.rss_after - result.rss_before) / MB, 2),
            "peak_rss_mb": round(result.peak_rss / MB, 2),
        },
        "peak_threads": result.peak_threads,
        "actor_messages_per_process": result.messages_per_process,
        "notes": result.notes or None,
        "database_mb": None
        if result.database_bytes is None
        else round(result.database_bytes / MB, 3),
        "database_bytes": result.database_bytes,
    }
    if not result.ok:
        return data
    throughputs = result.throughputs()
    iterations_run = result.iterations * len(result.repeat_results) + workload.warmup
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
            "wall_s_per_repeat_median": result.median_wall_seconds,
            # Timed and warm-up iterations; a setup's own warm-up (scale) is not counted.
            "database_bytes_per_process": None
            if result.database_bytes is None
            else result.database_bytes / (iterations_run * workload.processes_per_iteration),
            "repeat_results": _repeat_dicts(result),
        }
    )
    if workload.kind is Kind.ENGINE:
        data["cost_multiple_of_primitive"] = cost_multiples(result, primitives)
    return data


def build_document(
    results: Sequence[WorkloadResult],
    *,
    machine: dict[str, Any],
    config: dict[str, Any],
    comparisons: Mapping[str, Sequence[compare.Comparison]],
    peers: dict[str, dict[str, Any]],
    skipped: dict[str, str],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The report as a JSON-ready document; ``extra`` adds top-level keys (the durability
    table, the scaling curves)."""
    _engine, primitives = engine_and_primitives(results)
    document = {
        "schema_version": JSON_SCHEMA_VERSION,
        "machine": machine,
        "peers": peers,
        # Lifetime peak of the benchmark process, whatever the per-workload method was.
        "process_max_rss_mb": round(MemoryMeter.max_rss() / MB, 2),
        "config": config,
        "results": [result_to_dict(result, primitives) for result in results],
        "comparisons": {
            peer: [compare.to_dict(c) for c in items] for peer, items in comparisons.items()
        },
        "skipped": skipped,
        **(extra or {}),
    }
    return document


def write_json(path: Path, document: Mapping[str, Any]) -> None:
    """Write ``document`` as JSON to ``path`` (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
