"""PNG and SVG plots of a benchmark report: the ratios per workload and the scaling curves.

Drawn from the JSON document the harness writes (``--plot DIR`` right after a run, or
``python -m benchmarks.plots REPORT.json DIR`` for a recorded one), never from anything else.
matplotlib is an optional extra (``pip install -e '.[plot]'``); without it, ``--plot`` fails
with one line that says so before any workload runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

INSTALL_HINT = "--plot needs matplotlib: pip install -e '.[plot]'"
PEER_COLOURS = {"aiida": "#1f77b4", "dbos": "#d62728"}


class PlotError(RuntimeError):
    """matplotlib is missing, or the report holds nothing to plot."""


def require_matplotlib() -> None:
    """Raise ``PlotError`` with the install hint if matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotError(INSTALL_HINT) from None


def _pyplot() -> Any:
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Any, folder: Path, stem: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix in ("png", "svg"):
        path = folder / f"{stem}.{suffix}"
        figure.savefig(path, dpi=130, bbox_inches="tight")
        written.append(path)
    return written


def _ratio_rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for peer, items in document.get("comparisons", {}).items():
        for item in items:
            if item.get("ratio") is not None:
                rows.append({"peer": peer, **item})
    return rows


def _plain(value: float) -> str:
    """10,000 rather than 1e+04; 0.5 rather than 5e-01."""
    return f"{value:,.0f}" if value >= 1 and float(value).is_integer() else f"{value:.3g}"


def _plain_ticks(axis: Any) -> None:
    """Plain numbers (0.5, 2, 10,000) instead of powers of ten on a log axis."""
    from matplotlib.ticker import FuncFormatter

    def minor(value: float, _pos: int) -> str:
        # Label 2 and 5 of each decade (0.2, 0.5, 20, 50); the rest stay bare ticks.
        leading = f"{value:.1e}"[:3]
        return _plain(value) if leading in {"2.0", "5.0"} else ""

    axis.set_major_formatter(FuncFormatter(lambda value, _pos: _plain(value)))
    axis.set_minor_formatter(FuncFormatter(minor))


DATABASE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _times(ratio: float) -> str:
    return f"{ratio:,.0f}" if ratio >= 10 else f"{ratio:.2g}"


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.3g}"


def plot_ratios(document: dict[str, Any], folder: Path, title: str) -> list[Path]:
    """One horizontal bar per comparison, from 1 to workactors' median throughput over the
    peer's, on a log axis, with the paired per-repeat min-max as the error bar."""
    rows = _ratio_rows(document)
    if not rows:
        return []
    plt = _pyplot()
    from matplotlib.patches import Patch

    figure, axes = plt.subplots(figsize=(11, 1.4 + 0.42 * len(rows)))
    labels = [
        f"{(row.get('label') or row['workload']).removesuffix('@pg')} "
        f"({DATABASE_NAMES.get(row.get('database', ''), row.get('database', ''))})"
        for row in rows
    ]
    ratios = [row["ratio"] for row in rows]
    positions = list(range(len(rows)))[::-1]
    colours = [PEER_COLOURS.get(row["peer"], "#7f7f7f") for row in rows]
    axes.barh(positions, [r - 1 for r in ratios], left=1, color=colours, alpha=0.75, height=0.7)
    axes.errorbar(
        ratios,
        positions,
        xerr=[
            [r - row["paired_ratio_min"] for r, row in zip(ratios, rows, strict=True)],
            [row["paired_ratio_max"] - r for r, row in zip(ratios, rows, strict=True)],
        ],
        fmt="none",
        ecolor="black",
        capsize=3,
    )
    axes.set_xscale("log")
    low = min(*ratios, *(row["paired_ratio_min"] for row in rows), 1.0)
    high = max(*ratios, *(row["paired_ratio_max"] for row in rows), 1.0)
    axes.set_xlim(low / 1.6, high * 8)
    _plain_ticks(axes.xaxis)
    axes.axvline(1.0, color="black", linewidth=1)
    axes.set_yticks(positions)
    axes.set_yticklabels(labels)
    axes.set_xlabel(
        "workactors median throughput / peer's (log scale; right of 1: workactors faster, "
        "error bar: min-max of the per-repeat ratios)"
    )
    for position, ratio, row in zip(positions, ratios, rows, strict=True):
        axes.annotate(
            f"{_times(ratio)}x  ({_rate(row['workactors_per_s'])} vs {_rate(row['peer_per_s'])} "
            f"{row['unit']}/s)",
            (max(ratio, row["paired_ratio_max"], 1.0), position),
            xytext=(6, -4),
            textcoords="offset points",
            fontsize=8,
        )
    peers = list(dict.fromkeys(row["peer"] for row in rows))
    axes.legend(
        handles=[Patch(color=PEER_COLOURS.get(peer, "#7f7f7f"), label=peer) for peer in peers],
        title="compared with",
        loc="lower right",
        fontsize=8,
    )
    axes.set_title(title, fontsize=10)
    axes.grid(axis="x", which="both", alpha=0.3)
    figure.tight_layout()
    written = _save(figure, folder, "ratios")
    plt.close(figure)
    return written


def plot_curves(document: dict[str, Any], folder: Path, title: str) -> list[Path]:
    """Daemon steps/s against workers; scale_wait time, peak RSS and threads against size."""
    curves = document.get("curves") or {}
    daemon = [p for p in curves.get("daemon_workers", []) if p["ok"]]
    scale = [p for p in curves.get("scale_wait", []) if p["ok"]]
    if not daemon and not scale:
        return []
    plt = _pyplot()
    figure, grid = plt.subplots(2, 2, figsize=(10, 7.5))
    ((steps, seconds), (rss, threads)) = grid
    if daemon:
        workers = [p["workers"] for p in daemon]
        median = [p["per_s_median"] for p in daemon]
        steps.errorbar(
            workers,
            median,
            yerr=[
                [m - p["per_s_min"] for m, p in zip(median, daemon, strict=True)],
                [p["per_s_max"] - m for m, p in zip(median, daemon, strict=True)],
            ],
            marker="o",
            capsize=4,
        )
        steps.set_xticks(workers)
        steps.set_ylim(bottom=0)
        steps.set_title(
            f"daemon_steps: {daemon[0]['chains']} chains x 10 steps, SQLite", fontsize=10
        )
    steps.set_xlabel("daemon workers (OS processes)")
    steps.set_ylabel("durable steps per second")
    sizes = [p["batch"] for p in scale]
    for axes, key, label in (
        (seconds, "seconds_median", "seconds per batch (log)"),
        (rss, "peak_rss_mb", "peak RSS, MB"),
        (threads, "peak_threads", "peak OS threads"),
    ):
        values = [p[key] for p in scale]
        if scale:
            axes.plot(sizes, values, marker="o")
            for size, value in zip(sizes, values, strict=True):
                if value is not None:
                    axes.annotate(
                        f"{value:,.0f}" if value >= 10 else f"{value:.2g}",
                        (size, value),
                        xytext=(4, 4),
                        textcoords="offset points",
                    )
        axes.set_xscale("log")
        _plain_ticks(axes.xaxis)
        if sizes:
            axes.set_xticks(sizes)
        axes.margins(0.12)
        if key == "seconds_median":
            axes.set_yscale("log")
            _plain_ticks(axes.yaxis)
        else:
            axes.set_ylim(bottom=0)
        axes.set_xlabel("waiting work chains in one batch (log)")
        axes.set_ylabel(label)
        axes.set_title(f"scale_wait: {label.split(',')[0].split(' (')[0]}", fontsize=10)
    for axes in (steps, seconds, rss, threads):
        axes.grid(alpha=0.3, which="both")
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    written = _save(figure, folder, "curves")
    plt.close(figure)
    return written


def _title(document: dict[str, Any]) -> str:
    machine = document.get("machine", {})
    config = document.get("config", {})
    load = config.get("load_average_at_start")
    repeats = sorted({r["repeats"] for r in document.get("results", []) if r.get("ok")})
    counts = "-".join(str(count) for count in dict.fromkeys(repeats[:1] + repeats[-1:]))
    parts = [
        f"{machine.get('cpu_count_logical', '?')} CPUs",
        f"load average {load[0]:.1f} at start" if load else "",
        f"medians of {counts} repeats" if repeats else "",
    ]
    return "workactors benchmarks: " + ", ".join(part for part in parts if part)


def plot_report(document: dict[str, Any], folder: Path) -> list[Path]:
    """Every plot the report has data for; the files written."""
    title = _title(document)
    written = plot_ratios(document, folder, title) + plot_curves(document, folder, title)
    if not written:
        raise PlotError("the report has no comparison ratios and no curves to plot")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.plots REPORT.json DIR``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.plots", description=__doc__)
    parser.add_argument("report", type=Path, help="a JSON report of python -m benchmarks")
    parser.add_argument("folder", type=Path, help="where the PNG and SVG files go")
    args = parser.parse_args(argv)
    try:
        written = plot_report(json.loads(args.report.read_text()), args.folder)
    except PlotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
