"""workactors against its peer: the ratio of throughputs per workload, from one run.

Repeats of the two engines were interleaved (``benchmarks.harness``), so repeat ``k`` of one
and repeat ``k`` of the other saw the same state of the machine: besides the ratio of the
medians, the paired per-repeat ratios show how much of the gap is noise.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.markup import escape
from rich.table import Table

from benchmarks.figures import WorkloadResult
from benchmarks.workloads.base import Kind

HOME = "workactors"


@dataclass(frozen=True, slots=True)
class Comparison:
    """One workload on workactors against one variant of it on the peer.

    Attributes:
        ours: the workactors result.
        theirs: the peer's result (None if it did not run; ``note`` says why).
        note: what differs between the two rows, or why there is no figure.
    """

    ours: WorkloadResult
    theirs: WorkloadResult | None
    note: str = ""

    @property
    def comparable(self) -> bool:
        """Both ran."""
        return self.theirs is not None and self.ours.ok and self.theirs.ok

    @property
    def ratio(self) -> float:
        """workactors' median throughput over the peer's: how many times faster it is."""
        assert self.theirs is not None
        return self.ours.median_throughput / self.theirs.median_throughput

    def paired_ratios(self) -> list[float]:
        """Per-repeat ratios, repeat k of workactors over repeat k of the peer."""
        assert self.theirs is not None
        return [
            ours / theirs
            for ours, theirs in zip(
                self.ours.throughputs(), self.theirs.throughputs(), strict=False
            )
        ]


def _note(ours: WorkloadResult, theirs: WorkloadResult, notes: dict[str, str]) -> str:
    parts = []
    if ours.workload.batch != theirs.workload.batch:
        parts.append(f"batch {ours.workload.batch:,} vs {theirs.workload.batch:,}")
    if theirs.workload.label in notes:
        parts.append(notes[theirs.workload.label])
    return "; ".join(parts)


def compare(
    results: Sequence[WorkloadResult],
    peer: str,
    not_ported: dict[str, str],
    notes: dict[str, str],
    *,
    paired_only: bool = False,
) -> list[Comparison]:
    """Pair each workactors engine result with the peer's results of the same name and
    database (SQLite with SQLite, PostgreSQL with PostgreSQL).

    Args:
        results: everything that ran.
        peer: the peer to compare with (``aiida``, ``dbos``).
        not_ported: why a workload has no implementation on the peer, by name.
        notes: what differs on the peer's side, by workload label.
        paired_only: leave out workactors workloads the peer has no counterpart of (DBOS
            implements only the durable comparison, not every workload).
    """
    theirs_by_name: dict[tuple[str, str], list[WorkloadResult]] = {}
    for result in results:
        if result.workload.peer == peer:
            key = (result.workload.name, result.workload.database)
            theirs_by_name.setdefault(key, []).append(result)
    comparisons = []
    for ours in results:
        workload = ours.workload
        if workload.peer != HOME or workload.kind is not Kind.ENGINE:
            continue
        theirs_list = theirs_by_name.get((workload.name, workload.database), [])
        if not theirs_list:
            if paired_only:
                continue
            note = not_ported.get(workload.name, f"not run on {peer} in this run")
            comparisons.append(Comparison(ours, None, note))
            continue
        for theirs in theirs_list:
            note = _note(ours, theirs, notes)
            if not theirs.ok:
                note = f"{peer} failed: {theirs.error}"
            if not ours.ok:
                note = f"workactors failed: {ours.error}"
            comparisons.append(Comparison(ours, theirs, note))
    return comparisons


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _times(ratio: float) -> str:
    """Two significant figures below 10 (0.52, 1.8), whole numbers above (114)."""
    return f"{ratio:,.0f}" if ratio >= 10 else f"{ratio:.2g}"


def label_of(comparison: Comparison) -> str:
    """``workload`` (the peer's label) with workactors' variant where it has one."""
    ours = comparison.ours.workload
    if comparison.theirs is None:
        return ours.label
    theirs = comparison.theirs.workload
    if ours.variant and not theirs.variant:
        return ours.label
    return theirs.label


def build_table(comparisons: Sequence[Comparison], peer: str, title: str) -> Table:
    """workactors/s, peer/s, the ratio and the paired min-max, a note per row."""
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("workload")
    table.add_column("workactors /s", justify="right")
    table.add_column(f"{peer} /s", justify="right")
    table.add_column("ratio", justify="right")
    table.add_column("paired min-max", justify="right")
    table.add_column("note", overflow="fold")
    for comparison in comparisons:
        ours = comparison.ours
        label = label_of(comparison)
        ours_rate = _rate(ours.median_throughput) if ours.ok else "failed"
        if not comparison.comparable:
            theirs_rate = "—"
            if comparison.theirs is not None and comparison.theirs.ok:
                theirs_rate = _rate(comparison.theirs.median_throughput)
            table.add_row(label, ours_rate, theirs_rate, "—", "—", escape(comparison.note))
            continue
        assert comparison.theirs is not None
        paired = comparison.paired_ratios()
        table.add_row(
            label,
            ours_rate,
            _rate(comparison.theirs.median_throughput),
            _times(comparison.ratio) + "x",
            f"{_times(min(paired))}-{_times(max(paired))}",
            escape(comparison.note),
        )
    return table


def to_dict(comparison: Comparison) -> dict[str, Any]:
    """The JSON form of one comparison."""
    ours = comparison.ours
    data: dict[str, Any] = {
        "workload": ours.workload.name,
        "label": label_of(comparison),
        "database": ours.workload.database,
        "unit": ours.workload.unit,
        "variant": comparison.theirs.workload.variant if comparison.theirs else None,
        "workactors_per_s": ours.median_throughput if ours.ok else None,
        "peer_per_s": None,
        "ratio": None,
        "note": comparison.note,
    }
    if comparison.theirs is not None and comparison.theirs.ok:
        data["peer_per_s"] = comparison.theirs.median_throughput
    if comparison.comparable:
        paired = comparison.paired_ratios()
        data.update(
            {
                "ratio": comparison.ratio,
                "paired_ratios": paired,
                "paired_ratio_median": statistics.median(paired),
                "paired_ratio_min": min(paired),
                "paired_ratio_max": max(paired),
            }
        )
    return data
