"""The ``restart`` workload: a BaseRestartWorkChain whose child fails twice, then succeeds
(three child processes and four process nodes per iteration).

If this checkout's ``actors`` has no BaseRestartWorkChain, the workload is registered as
unavailable, with the import error as the reason, so the rest of the harness still runs.
"""

from __future__ import annotations

from types import ModuleType

from actors import Runtime
from benchmarks.workloads.base import Kind, Workload

flows: ModuleType | None
try:
    from benchmarks.workloads import restart_flows as flows
except ImportError as exc:  # an older checkout without the work-chain toolkit
    flows = None
    UNAVAILABLE: str | None = f"actors.BaseRestartWorkChain does not import here: {exc}"
else:
    UNAVAILABLE = None

# A blocking run that takes this long is stuck: fail the workload rather than the whole run.
TIMEOUT_S = 120.0


def _restart(runtime: Runtime, i: int) -> None:
    assert flows is not None
    outputs = runtime.run_async(flows.RestartsFailsTwice, child={"x": i, "attempt": 1}).result(
        timeout=TIMEOUT_S
    )
    if outputs["y"].value != i + 1:
        raise RuntimeError(f"RestartsFailsTwice(x={i}) returned {outputs['y'].value}")


WORKLOAD = Workload(
    name="restart",
    description="BaseRestartWorkChain: a child failing twice, then succeeding (3 children)",
    peer="workactors",
    kind=Kind.ENGINE,
    n=60,
    quick_n=20,
    run_once=_restart,
    processes_per_iteration=4,
    unavailable=UNAVAILABLE,
)
