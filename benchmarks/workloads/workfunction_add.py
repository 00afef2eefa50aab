"""``workfunction_add``: the smallest workfunction, run blockingly: the per-process floor."""

from __future__ import annotations

from typing import Any, cast

from actors import Runtime, workfunction
from benchmarks.workloads.base import Kind, Workload
from provenance import Int


@workfunction
def add(a: Int, b: Int) -> Int:
    """Add two integers; stored with full provenance like any workfunction."""
    return cast(Int, a + b)  # Int + Int is an Int; the operator is typed for any number


def _run_once(runtime: Runtime, i: int) -> None:
    result: Any = runtime.run(add, Int(i), Int(1))
    if result.value != i + 1:
        raise RuntimeError(f"add({i}, 1) returned {result.value}")


WORKLOAD = Workload(
    name="workfunction_add",
    description="@workfunction add(a, b) run blockingly: one process, two inputs, one output",
    peer="workactors",
    kind=Kind.ENGINE,
    n=300,
    quick_n=100,
    run_once=_run_once,
)
