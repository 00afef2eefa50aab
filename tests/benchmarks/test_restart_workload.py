"""The ``restart`` workload does what it says: three attempts per iteration, the last one wins."""

from __future__ import annotations

from actors import Runtime
from benchmarks.workloads import restart
from provenance import ProcessNode, QueryBuilder


def test_the_restart_workload_runs_three_attempts_per_iteration(runtime: Runtime) -> None:
    assert restart.UNAVAILABLE is None
    for i in range(2):
        restart.WORKLOAD.run_once(runtime, i)

    with runtime.bound():
        processes = QueryBuilder().append(ProcessNode).all(flat=True)
    assert len(processes) == 2 * restart.WORKLOAD.processes_per_iteration
