"""``workfunction_nested``: a workfunction calling another: measures the cost of a CALL link
and of launching a child from inside a running step."""

from __future__ import annotations

from typing import Any, cast

from actors import Runtime, workfunction
from benchmarks.workloads.base import Kind, Workload
from provenance import Int


@workfunction
def increment(a: Int, b: Int) -> Int:
    """The inner process."""
    return cast(Int, a + b)  # Int + Int is an Int; the operator is typed for any number


@workfunction
def outer(a: Int) -> Any:
    """The outer process: calls ``increment`` once, so an iteration is two processes."""
    return increment(a, Int(1))


def _run_once(runtime: Runtime, i: int) -> None:
    result: Any = runtime.run(outer, Int(i))
    if result.value != i + 1:
        raise RuntimeError(f"outer({i}) returned {result.value}")


WORKLOAD = Workload(
    name="workfunction_nested",
    description="@workfunction calling another @workfunction once (2 processes, CALL link)",
    peer="workactors",
    kind=Kind.ENGINE,
    n=300,
    quick_n=100,
    run_once=_run_once,
    processes_per_iteration=2,
)
