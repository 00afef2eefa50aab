"""Workloads 3, 4 and 5 on workactors: a 3-step outline, a fan-out of 10 children, a while_;
and a work chain with two children (its messages per chain are issue 9's yardstick).

The work chains are in ``workchain_flows`` (mirrored on aiida-core in
``benchmarks/aiida_peer/flows.py``). If this checkout's ``actors`` cannot import them (the
WorkChain API is missing or broken), the workloads are registered as unavailable, with the
import error as the reason, so that the rest of the harness still runs.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from actors import Runtime
from benchmarks.workloads import scale
from benchmarks.workloads.base import Kind, Workload
from benchmarks.workloads.shapes import FAN_OUT, LOOP_COUNT, PAIR
from provenance import Int

flows: ModuleType | None
try:
    from benchmarks.workloads import workchain_flows as flows
except ImportError as exc:  # the WorkChain API may be missing or broken in a checkout
    flows = None
    UNAVAILABLE: str | None = f"actors.WorkChain does not import here: {exc}"
else:
    UNAVAILABLE = None

# A blocking run that takes this long is stuck: fail the workload rather than the whole run.
TIMEOUT_S = 120.0


def _run(runtime: Runtime, process: Any, **inputs: Any) -> Any:
    return runtime.run_async(process, **inputs).result(timeout=TIMEOUT_S)


def _check(what: str, got: int, expected: int) -> None:
    if got != expected:
        raise RuntimeError(f"{what} returned {got}, expected {expected}")


def _three_steps(runtime: Runtime, i: int) -> None:
    assert flows is not None
    outputs = _run(runtime, flows.ThreeSteps, x=Int(i))
    _check(f"ThreeSteps(x={i})", outputs["y"].value, i + 1)


def _fan_out(runtime: Runtime, i: int) -> None:
    assert flows is not None
    base = i * FAN_OUT
    outputs = _run(runtime, flows.FanOut, x=Int(base))
    _check(f"FanOut(x={base})", outputs["total"].value, sum(base + k + 1 for k in range(FAN_OUT)))


def _pair(runtime: Runtime, i: int) -> None:
    assert flows is not None
    base = i * PAIR
    outputs = _run(runtime, flows.Pair, x=Int(base))
    _check(f"Pair(x={base})", outputs["total"].value, sum(base + k + 1 for k in range(PAIR)))


def _loop(runtime: Runtime, i: int) -> None:
    assert flows is not None
    outputs = _run(runtime, flows.Loop, x=Int(i))
    _check(f"Loop(x={i})", outputs["y"].value, i + LOOP_COUNT)


THREE_STEPS = Workload(
    name="workchain_3step",
    description="WorkChain, 3-step outline sharing ctx, one Int out, run blockingly",
    peer="workactors",
    kind=Kind.ENGINE,
    n=300,
    quick_n=100,
    run_once=_three_steps,
    unavailable=UNAVAILABLE,
)

FAN_OUT_WORKLOAD = Workload(
    name="workchain_fanout",
    description="WorkChain submitting 10 one-step child WorkChains, gathered with append_ "
    "(throughput counts children)",
    peer="workactors",
    kind=Kind.ENGINE,
    n=100,
    quick_n=30,
    run_once=_fan_out,
    processes_per_iteration=FAN_OUT,
    warmup=5,
    unit="children",
    unavailable=UNAVAILABLE,
)

PAIR_WORKLOAD = Workload(
    name="workchain_pair",
    description="WorkChain submitting 2 one-step child WorkChains and waiting for them, run "
    "blockingly (throughput and msgs/proc count all 3 processes)",
    peer="workactors",
    kind=Kind.ENGINE,
    n=200,
    quick_n=60,
    run_once=_pair,
    processes_per_iteration=1 + PAIR,
    unavailable=UNAVAILABLE,
)

WHILE_LOOP = Workload(
    name="workchain_while",
    description="WorkChain with while_ looping 10 times, one Int out",
    peer="workactors",
    kind=Kind.ENGINE,
    n=200,
    quick_n=60,
    run_once=_loop,
    unavailable=UNAVAILABLE,
)

SCALE = scale.make(scale.BATCH, UNAVAILABLE)

WORKLOADS = (THREE_STEPS, FAN_OUT_WORKLOAD, PAIR_WORKLOAD, WHILE_LOOP, SCALE)
