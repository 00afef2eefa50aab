"""Processes the work-chain toolkit tests run: importable, so durable runtimes and daemons can
load them from checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from actors import (
    BaseRestartWorkChain,
    ExitCode,
    Process,
    ProcessHandlerReport,
    ProcessSpec,
    WorkChain,
    process_handler,
)
from actors.workchain import WorkChainSpec
from provenance import Float, Int, List, Str, to_node
from tests.actors.daemon.processes import leave_mark
from tests.actors.workchains import hold


class Relax(Process):
    """Adds its namespaced inputs: ``scf.x + scf.shift``, with a default shift."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.input("scf.x", valid_type=Int, serializer=to_node)
        spec.input("scf.shift", valid_type=Int, default=lambda: Int(10), serializer=to_node)
        spec.input("tag", valid_type=Str, required=False)
        spec.output("total", valid_type=Int)
        spec.output("echo.x", valid_type=Int)

    def run(self) -> None:
        self.out("total", Int(self.inputs.scf.x.value + self.inputs.scf.shift.value))
        self.out_many({"echo": {"x": self.inputs.scf.x}})


class Wraps(WorkChain):
    """Exposes Relax's inputs in namespace ``relax`` and its outputs as its own."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.expose_inputs(Relax, namespace="relax", exclude=("tag",))
        spec.expose_outputs(Relax, namespace="relaxed")
        spec.outline(cls.launch, cls.collect)

    def launch(self) -> dict[str, Any]:
        inputs = self.exposed_inputs(Relax, namespace="relax")
        return {"child": self.submit(Relax, **inputs)}

    def collect(self) -> None:
        self.out_many(self.exposed_outputs(self.ctx.child, Relax, namespace="relaxed"))


class Flaky(Process):
    """Fails with ``ERROR_FLAKY`` until ``attempt`` reaches ``succeed_at`` (0: raises, below 0:
    ``ERROR_FATAL``)."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.input("attempt", valid_type=Int, serializer=to_node)
        spec.input("succeed_at", valid_type=Int, serializer=to_node)
        spec.output("result", valid_type=Int)
        spec.exit_code(300, "ERROR_FLAKY", "not yet")
        spec.exit_code(310, "ERROR_FATAL", "never")

    def run(self) -> ExitCode | None:
        if self.inputs.succeed_at.value == 0:
            raise RuntimeError("Flaky was told to crash")
        if self.inputs.succeed_at.value < 0:
            return self.exit_codes.ERROR_FATAL
        if self.inputs.attempt.value < self.inputs.succeed_at.value:
            return self.exit_codes.ERROR_FLAKY
        self.out("result", Int(self.inputs.attempt.value * 100))
        return None


class RestartFlaky(BaseRestartWorkChain):
    """Restarts Flaky with ``attempt + 1`` each time it fails with ERROR_FLAKY."""

    _process_class = Flaky

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        assert cls._process_class is not None
        spec.expose_inputs(cls._process_class, namespace="flaky")
        spec.expose_outputs(cls._process_class)
        spec.exit_code(500, "ERROR_GAVE_UP", "the fatal handler gave up")

    @process_handler(priority=100, exit_codes=Flaky.spec().exit_codes.ERROR_FLAKY)
    def bump_attempt(self, node: Any) -> ProcessHandlerReport:
        self.ctx.inputs["attempt"] = Int(node.get_inputs_dict()["attempt"].value + 1)
        return ProcessHandlerReport(do_break=True)

    @process_handler(priority=50, exit_codes=[310])
    def give_up(self, node: Any) -> ProcessHandlerReport:
        return ProcessHandlerReport(True, self.exit_codes.ERROR_GAVE_UP)


class SlowFlaky(Flaky):
    """A Flaky that leaves a mark per attempt and naps: the work a kill may cut off."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.input("marks", valid_type=Str, serializer=to_node)
        spec.input("nap", valid_type=Float, default=lambda: Float(0.0), serializer=to_node)

    def run(self) -> ExitCode | None:
        leave_mark(
            Path(self.inputs.marks.value),
            self.pid,
            self.inputs.attempt.value,
            self.inputs.nap.value,
        )
        return super().run()


class RestartSlowFlaky(RestartFlaky):
    """RestartFlaky of SlowFlaky, for daemon tests."""

    _process_class = SlowFlaky


class Shaky(Process):
    """Raises ConnectionError until its attempt reaches ``succeed_at``; counts attempts in a
    file (``marks``) so a test sees every attempt that ran, across workers."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.input("succeed_at", valid_type=Int, serializer=to_node)
        spec.input("marks", valid_type=Str, serializer=to_node)
        spec.input("nap", valid_type=Float, default=lambda: Float(0.0), serializer=to_node)
        spec.output("attempts", valid_type=Int)
        spec.retry(max_attempts=4, on=(ConnectionError,), backoff=lambda attempt: 0.0)

    def run(self) -> None:
        attempt = self.attempt
        leave_mark(Path(self.inputs.marks.value), self.pid, attempt, self.inputs.nap.value)
        if attempt < self.inputs.succeed_at.value:
            raise ConnectionError(f"attempt {attempt} could not connect")
        self.out("attempts", Int(attempt))


#: The outlines ``Evolving`` may have, as a test switches between them (code changing under a
#: running process). Each lists step names.
EVOLVING_OUTLINES: dict[str, tuple[str, ...]] = {
    "original": ("first", "held", "last"),
    "inserted": ("first", "held", "extra", "last"),
    "appended": ("first", "held", "last", "extra"),
    "removed": ("first", "last"),
}


class Evolving(WorkChain):
    """Steps that trace themselves; ``held`` waits on ``hold(tag)``. Its outline is the one
    named by ``Evolving.variant``: a test changes it, then rebuilds the spec."""

    variant: ClassVar[str] = "original"

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.input("tag", valid_type=Str, serializer=to_node)
        spec.output("trace", valid_type=List)
        spec.outline(*(getattr(cls, name) for name in EVOLVING_OUTLINES[cls.variant]))

    @classmethod
    def switch(cls, variant: str) -> None:
        """Change the outline, as if the code of the class had been edited."""
        cls.variant = variant
        cls.__dict__.get("_sealed_spec") and delattr(cls, "_sealed_spec")

    def first(self) -> None:
        self.ctx.trace = ["first"]

    def held(self) -> None:
        self.ctx.trace.append("held")
        reached, release = hold(self.inputs.tag.value)
        reached.set()
        if not release.wait(60):
            raise TimeoutError("never released")

    def extra(self) -> None:
        self.ctx.trace.append("extra")

    def last(self) -> None:
        self.ctx.trace.append("last")
        self.out("trace", List(self.ctx.trace))
