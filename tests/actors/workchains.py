"""Work chains and processes the WorkChain tests share (importable, as checkpoints need)."""

from __future__ import annotations

import threading

from actors import (
    ExitCode,
    Outputs,
    Process,
    ProcessSpec,
    ToContext,
    WorkChain,
    append_,
    if_,
    return_,
    while_,
)
from actors.workchain import WorkChainSpec
from provenance import Int, List, Str

#: Events that ``Gated`` children wait on, by name; tests open them to let the children end.
GATES: dict[str, threading.Event] = {}
GATE_TIMEOUT = 30.0


def gate(name: str) -> threading.Event:
    """The event named ``name``, created closed."""
    return GATES.setdefault(name, threading.Event())


class Gated(Process):
    """Ends only once its gate opens: a child that is still running while its parent waits."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.input("gate", valid_type=Str)
        spec.input("value", valid_type=Int, default=Int(0))
        spec.output("value", valid_type=Int)

    def run(self) -> None:
        if not gate(self.inputs.gate.value).wait(GATE_TIMEOUT):
            raise TimeoutError(f"gate {self.inputs.gate.value} never opened")
        self.out("value", Int(self.inputs.value.value))


class Double(Process):
    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.output("y", valid_type=Int)

    def run(self) -> None:
        self.out("y", Int(2 * self.inputs.x.value))


class Fails(Process):
    def run(self) -> None:
        raise ValueError("the child broke")


class Branches(WorkChain):
    """Takes exactly one branch of an if_/elif_/else_ chain, chosen by ``x``."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.output("taken", valid_type=List)
        spec.outline(
            cls.start,
            if_(cls.is_one)(cls.one)
            .elif_(cls.is_two)(cls.two)
            .elif_(cls.is_positive)(cls.many)
            .else_(cls.other),
            cls.finish,
        )

    def start(self) -> None:
        self.ctx.taken = ["start"]
        self.ctx.conditions = []

    def _check(self, name: str, result: bool) -> bool:
        self.ctx.conditions = [*self.ctx.conditions, name]
        return result

    def is_one(self) -> bool:
        return self._check("is_one", self.inputs.x.value == 1)

    def is_two(self) -> bool:
        return self._check("is_two", self.inputs.x.value == 2)

    def is_positive(self) -> bool:
        return self._check("is_positive", self.inputs.x.value > 0)

    def one(self) -> None:
        self.ctx.taken.append("one")

    def two(self) -> None:
        self.ctx.taken.append("two")

    def many(self) -> None:
        self.ctx.taken.append("many")

    def other(self) -> None:
        self.ctx.taken.append("other")

    def finish(self) -> None:
        self.out("taken", List([*self.ctx.taken, *self.ctx.conditions]))


class Loop(WorkChain):
    """Counts up to ``n`` in a while_ loop of two steps."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.input("n", valid_type=Int)
        spec.output("count", valid_type=Int)
        spec.output("steps", valid_type=List)
        spec.outline(cls.setup, while_(cls.more)(cls.tick, cls.tock), cls.finish)

    def setup(self) -> None:
        self.ctx.count = 0
        self.ctx.steps = ["setup"]

    def more(self) -> bool:
        return bool(self.ctx.count < self.inputs.n.value)

    def tick(self) -> None:
        self.ctx.steps.append("tick")

    def tock(self) -> None:
        self.ctx.count += 1
        self.ctx.steps.append("tock")

    def finish(self) -> None:
        self.out("count", Int(self.ctx.count))
        self.out("steps", List([*self.ctx.steps, "finish"]))


class FanOut(WorkChain):
    """Submits ``n`` children in one step and appends them to ctx."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.input("n", valid_type=Int)
        spec.output("values", valid_type=List)
        spec.outline(cls.launch, cls.gather)

    def launch(self) -> None:
        for index in range(self.inputs.n.value):
            self.to_context(children=append_(self.submit(Double, x=Int(index))))

    def gather(self) -> None:
        self.out(
            "values",
            List([child.get_outputs_dict()["y"].value for child in self.ctx.get("children", [])]),
        )


class AwaitsGated(WorkChain):
    """Waits on one ``Gated`` child (gate named by input ``gate``), taking its outputs."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.input("gate", valid_type=Str)
        spec.output("value", valid_type=Int)
        spec.outline(cls.launch, cls.collect)

    def launch(self) -> ToContext:
        return ToContext(child=Outputs(self.submit(Gated, gate=self.inputs.gate, value=Int(7))))

    def collect(self) -> None:
        self.out("value", self.ctx.child["value"])


class AwaitsFailing(WorkChain):
    """Awaits a child that raises; records the state it saw."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.output("child_state", valid_type=Str)
        spec.outline(cls.launch, cls.inspect)

    def launch(self) -> ToContext:
        return ToContext(child=self.submit(Fails))

    def inspect(self) -> None:
        self.out("child_state", Str(self.ctx.child.process_state.value))


class StopsEarly(WorkChain):
    """Ends with an exit code from its second step; the third never runs."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.exit_code(410, "ERROR_STOP", "stopped on purpose")
        spec.outline(cls.first, cls.second, cls.third)

    def first(self) -> None:
        self.report("first")

    def second(self) -> ExitCode:
        return self.exit_codes.ERROR_STOP

    def third(self) -> None:
        raise AssertionError("third must not run")


class Returns(WorkChain):
    """Leaves the outline through return_ inside a while_."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.output("reached", valid_type=Int)
        spec.outline(cls.setup, while_(cls.forever)(cls.count, if_(cls.enough)(return_)), cls.never)

    def setup(self) -> None:
        self.ctx.n = 0

    def forever(self) -> bool:
        return True

    def count(self) -> None:
        self.ctx.n += 1

    def enough(self) -> bool:
        if self.ctx.n == 3:
            self.out("reached", Int(self.ctx.n))
            return True
        return False

    def never(self) -> None:
        raise AssertionError("return_ must stop the outline")


#: Per tag: (reached, release) events; a ``TenSteps`` run with that tag stops in step
#: ``stop_at`` until ``release`` is set, after setting ``reached``.
HOLDS: dict[str, tuple[threading.Event, threading.Event]] = {}


def hold(tag: str) -> tuple[threading.Event, threading.Event]:
    """The (reached, release) pair for ``tag``."""
    return HOLDS.setdefault(tag, (threading.Event(), threading.Event()))


class TenSteps(WorkChain):
    """Ten steps in a while_ loop, each recorded once in ctx; may hold in one step."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.input("tag", valid_type=Str, default=Str(""))
        spec.input("stop_at", valid_type=Int, default=Int(0))
        spec.output("trace", valid_type=List)
        spec.outline(cls.setup, while_(cls.more)(cls.advance), cls.finish)

    def setup(self) -> None:
        self.ctx.trace = []

    def more(self) -> bool:
        return len(self.ctx.trace) < 10

    def advance(self) -> None:
        number = len(self.ctx.trace) + 1
        self.ctx.trace.append(number)
        if number == self.inputs.stop_at.value:
            reached, release = hold(self.inputs.tag.value)
            reached.set()
            if not release.wait(GATE_TIMEOUT):
                raise TimeoutError("never released")

    def finish(self) -> None:
        self.out("trace", List(list(self.ctx.trace)))
