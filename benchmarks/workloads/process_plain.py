"""``process_plain``: a ``Process`` subclass with a spec: the class-based path without the
signature binding of workfunctions, so the two can be told apart."""

from __future__ import annotations

from actors import Process, ProcessSpec, Runtime
from benchmarks.workloads.base import Kind, Workload
from provenance import Int


class PlusOne(Process):
    """Input ``x`` (Int), output ``y = x + 1`` (Int)."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """One input and one output, both validated by type."""
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.output("y", valid_type=Int)

    def run(self) -> None:
        """Emit ``y``."""
        self.out("y", Int(self.inputs.x.value + 1))


def _run_once(runtime: Runtime, i: int) -> None:
    outputs = runtime.run(PlusOne, x=Int(i))
    if outputs["y"].value != i + 1:
        raise RuntimeError(f"PlusOne(x={i}) returned {outputs['y'].value}")


WORKLOAD = Workload(
    name="process_plain",
    description="Process subclass with spec input x and output y = x + 1, run blockingly",
    peer="workactors",
    kind=Kind.ENGINE,
    n=300,
    quick_n=100,
    run_once=_run_once,
)
