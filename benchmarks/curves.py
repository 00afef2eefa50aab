"""Scaling curves: durable steps/s against daemon workers, and ``scale_wait`` against its size.

``--curves`` runs ``daemon_steps`` (on SQLite) with 1, 2 and 4 workers and ``scale_wait`` with
1,000 and 10,000 waiting work chains (``--curve-sizes`` adds 100,000: about ten minutes per
repeat on a two-core machine at load 7). Every point runs alone, never interleaved with
another, so that its peak RSS and thread count are its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from rich.table import Table

from benchmarks.databases import SQLITE
from benchmarks.figures import MB, WorkloadResult
from benchmarks.workloads import durable, workchains
from benchmarks.workloads.base import Workload

DEFAULT_WORKERS = (1, 2, 4)
DEFAULT_SIZES = (1_000, 10_000)
DAEMON = "daemon_steps"
SCALE = "scale_wait"


def size_label(size: int) -> str:
    """``1k``, ``10k``, ``100k`` (or the plain number if not a multiple of 1,000)."""
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def workloads(workers: Sequence[int], sizes: Sequence[int], *, quick: bool) -> list[Workload]:
    """The points of both curves, daemon first."""
    chains = durable.QUICK_CHAINS if quick else durable.CHAINS
    points = [durable.steps(count, SQLITE, chains) for count in workers]
    base = workchains.SCALE
    for size in sizes:
        sized = base.resize(size) if base.resize is not None else base
        points.append(replace(sized, variant=size_label(size), resize=None))
    return points


def _spread(result: WorkloadResult) -> dict[str, float]:
    throughputs = result.throughputs()
    walls = sorted(repeat.wall_seconds for repeat in result.repeat_results)
    return {
        "per_s_median": result.median_throughput,
        "per_s_min": min(throughputs),
        "per_s_max": max(throughputs),
        "seconds_median": result.median_wall_seconds,
        "seconds_min": walls[0],
        "seconds_max": walls[-1],
    }


def points(results: Sequence[WorkloadResult]) -> dict[str, list[dict[str, Any]]]:
    """The curves' JSON: one entry per point that ran, failed ones with their error."""
    curves: dict[str, list[dict[str, Any]]] = {"daemon_workers": [], "scale_wait": []}
    for result in results:
        workload = result.workload
        base: dict[str, Any] = {"ok": result.ok, "error": result.error, "unit": workload.unit}
        if result.ok:
            base.update(_spread(result))
            base["repeats"] = len(result.repeat_results)
        if workload.name == DAEMON:
            workers = int(workload.variant.rstrip("w"))
            curves["daemon_workers"].append({"workers": workers, "chains": workload.batch, **base})
        elif workload.name == SCALE:
            curves["scale_wait"].append(
                {
                    "batch": workload.batch,
                    "processes": workload.processes_per_iteration,
                    "peak_rss_mb": round(result.peak_rss / MB, 1) if result.ok else None,
                    "peak_threads": result.peak_threads,
                    **base,
                }
            )
    return curves


def _range(point: dict[str, Any], key: str, digits: int) -> str:
    if not point["ok"]:
        return "failed"
    low, high = point[f"{key}_min"], point[f"{key}_max"]
    return f"{point[f'{key}_median']:,.{digits}f} ({low:,.{digits}f}-{high:,.{digits}f})"


def build_table(curves: dict[str, list[dict[str, Any]]]) -> Table:
    """Both curves in one table: the point, time per iteration, throughput, RSS, threads."""
    table = Table(
        title="scaling curves (median of repeats, min-max in brackets)",
        title_justify="left",
        header_style="bold",
    )
    for header in ("curve", "point", "s per iteration", "per s", "peak RSS MB", "peak threads"):
        table.add_column(header, justify="right" if header != "curve" else "left")
    for point in curves["daemon_workers"]:
        table.add_row(
            f"{DAEMON} ({point['chains']} chains x 10 steps, SQLite)",
            f"{point['workers']} worker(s)",
            _range(point, "seconds", 2),
            _range(point, "per_s", 0) + " steps",
            "—",
            "—",
        )
    for point in curves["scale_wait"]:
        table.add_row(
            f"{SCALE} (waiting work chains)",
            f"{point['batch']:,}",
            _range(point, "seconds", 1),
            _range(point, "per_s", 0) + " proc",
            "—" if point["peak_rss_mb"] is None else f"{point['peak_rss_mb']:,.1f}",
            "—" if point["peak_threads"] is None else str(point["peak_threads"]),
        )
    return table
