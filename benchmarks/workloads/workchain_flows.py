"""The work chains that workloads 3, 4, 5 and 7 run on workactors.

They mirror ``benchmarks/aiida_peer/flows.py`` step for step, so that both engines do the same
work: the same outlines, the same ctx traffic, the same outputs (``Pair`` is workactors' only).
Module-level classes, so that a passivated work chain can be revived by class path.
"""

from __future__ import annotations

from typing import Any

from actors import WorkChain, append_, while_
from benchmarks.workloads.shapes import FAN_OUT, LOOP_COUNT, PAIR
from provenance import Int


class ThreeSteps(WorkChain):
    """Workload 3: three steps sharing ``ctx``, one Int out."""

    @classmethod
    def define(cls, spec: Any) -> None:
        """Input x, output y = x + 1."""
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.output("y", valid_type=Int)
        spec.outline(cls.start, cls.add_one, cls.finish)

    def start(self) -> None:
        """Put x in ctx."""
        self.ctx.value = self.inputs.x.value

    def add_one(self) -> None:
        """Change ctx."""
        self.ctx.value += 1

    def finish(self) -> None:
        """Emit y."""
        self.out("y", Int(self.ctx.value))


class Leaf(WorkChain):
    """A one-step child work chain: y = x + 1."""

    @classmethod
    def define(cls, spec: Any) -> None:
        """Input x, output y."""
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.output("y", valid_type=Int)
        spec.outline(cls.emit)

    def emit(self) -> None:
        """Emit y."""
        self.out("y", Int(self.inputs.x.value + 1))


def _output(node: Any, name: str) -> Any:
    return node.get_outputs_dict()[name]


class FanOut(WorkChain):
    """Workload 4: submit ten ``Leaf`` children, gather them through the context."""

    @classmethod
    def define(cls, spec: Any) -> None:
        """Input x, output the sum of the children's outputs."""
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.output("total", valid_type=Int)
        spec.outline(cls.launch, cls.gather)

    def launch(self) -> None:
        """Submit the children; the next step waits for all of them."""
        base = self.inputs.x.value
        for k in range(FAN_OUT):
            self.to_context(children=append_(self.submit(Leaf, x=Int(base + k))))

    def gather(self) -> None:
        """Sum what the children emitted."""
        total = sum(_output(child, "y").value for child in self.ctx.children)
        self.out("total", Int(total))


class Pair(WorkChain):
    """Issue 9's unit of messages: a blocking work chain with two children it waits for."""

    @classmethod
    def define(cls, spec: Any) -> None:
        """Input x, output the sum of the two children's outputs."""
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.output("total", valid_type=Int)
        spec.outline(cls.launch, cls.gather)

    def launch(self) -> None:
        """Submit two children; the next step waits for both."""
        base = self.inputs.x.value
        for k in range(PAIR):
            self.to_context(children=append_(self.submit(Leaf, x=Int(base + k))))

    def gather(self) -> None:
        """Sum what the children emitted."""
        total = sum(_output(child, "y").value for child in self.ctx.children)
        self.out("total", Int(total))


class Loop(WorkChain):
    """Workload 5: a ``while_`` whose body runs ten times."""

    @classmethod
    def define(cls, spec: Any) -> None:
        """Input x, output y = x + 10."""
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.output("y", valid_type=Int)
        spec.outline(cls.start, while_(cls.more)(cls.body), cls.finish)

    def start(self) -> None:
        """Start counting."""
        self.ctx.count = 0
        self.ctx.value = self.inputs.x.value

    def more(self) -> bool:
        """True ten times."""
        return bool(self.ctx.count < LOOP_COUNT)

    def body(self) -> None:
        """One turn."""
        self.ctx.count += 1
        self.ctx.value += 1

    def finish(self) -> None:
        """Emit y."""
        self.out("y", Int(self.ctx.value))


class Waiter(WorkChain):
    """Workload 7's unit: a work chain that waits on one child."""

    @classmethod
    def define(cls, spec: Any) -> None:
        """Input x, output the child's y."""
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.output("y", valid_type=Int)
        spec.outline(cls.launch, cls.finish)

    def launch(self) -> None:
        """Submit the child and wait for it."""
        self.to_context(child=self.submit(Leaf, x=self.inputs.x))

    def finish(self) -> None:
        """Pass the child's output on."""
        self.out("y", _output(self.ctx.child, "y"))


class Driver(WorkChain):
    """Launches ``n`` waiters at once, so that all of them wait concurrently."""

    @classmethod
    def define(cls, spec: Any) -> None:
        """Input n, output the sum of the waiters' outputs."""
        super().define(spec)
        spec.input("n", valid_type=Int)
        spec.input("base", valid_type=Int)
        spec.output("total", valid_type=Int)
        spec.outline(cls.launch, cls.gather)

    def launch(self) -> None:
        """Submit every waiter in one step."""
        base = self.inputs.base.value
        for k in range(self.inputs.n.value):
            self.to_context(waiters=append_(self.submit(Waiter, x=Int(base + k))))

    def gather(self) -> None:
        """Sum the waiters' outputs."""
        total = sum(_output(waiter, "y").value for waiter in self.ctx.waiters)
        self.out("total", Int(total))
