"""Processes the daemon tests submit: importable by path, as a worker must import them.

``Marked`` leaves a mark per step in a file of its own (``<marks>/<pid>.marks``: the step's
index and the OS pid of the worker that ran it), so a test can tell which worker ran what, and
how often.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from actors import ToContext, WorkChain, while_
from actors.workchain import WorkChainSpec
from provenance import Float, Int, Str
from tests.actors.workchains import Double


def marks_of(marks: Path, pid: int) -> list[tuple[int, int]]:
    """The (step index, worker OS pid) marks of process ``pid``, in the order they were made."""
    path = marks / f"{pid}.marks"
    if not path.exists():
        return []
    pairs = (line.split() for line in path.read_text().splitlines() if line.strip())
    return [(int(index), int(os_pid)) for index, os_pid in pairs]


def leave_mark(marks: Path, pid: int | None, index: int, nap: float) -> None:
    """Append the mark of step ``index`` of ``pid``, then nap: the work a kill may cut off."""
    fd = os.open(marks / f"{pid}.marks", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, f"{index} {os.getpid()}\n".encode())
    finally:
        os.close(fd)
    if nap:
        time.sleep(nap)


class Marked(WorkChain):
    """``steps`` steps folding ``x`` into a total in an order-sensitive way.

    At step ``child_at`` it awaits a ``Double`` child whose result the next step folds in, so
    that waits on children cross checkpoints and workers. Each step sleeps ``nap`` seconds, to
    stand for real work that a kill can interrupt.
    """

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.input("marks", valid_type=Str)
        spec.input("steps", valid_type=Int, default=Int(10))
        spec.input("nap", valid_type=Float, default=Float(0.0))
        spec.input("child_at", valid_type=Int, default=Int(-1))
        spec.output("total", valid_type=Int)
        spec.outline(cls.setup, while_(cls.more)(cls.work), cls.finish)

    def setup(self) -> None:
        self.ctx.index = 0
        self.ctx.total = self.inputs.x.value

    def more(self) -> bool:
        return bool(self.ctx.index < self.inputs.steps.value)

    def work(self) -> ToContext | None:
        index = self.ctx.index
        leave_mark(Path(self.inputs.marks.value), self.pid, index, self.inputs.nap.value)
        if "child" in self.ctx:
            self.ctx.total += self.ctx.child.get_outputs_dict()["y"].value
            del self.ctx["child"]
        self.ctx.total = (self.ctx.total * 31 + index) % 1_000_003
        self.ctx.index = index + 1
        if index == self.inputs.child_at.value:
            return ToContext(child=self.submit(Double, x=Int(self.ctx.total)))
        return None

    def finish(self) -> None:
        self.out("total", Int(self.ctx.total))


class Forked(WorkChain):
    """Six steps; the third launches two ``Double`` children that the fourth folds in.

    Every step leaves a mark, so a test counts how often each step ran and where.
    """

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        super().define(spec)
        spec.input("x", valid_type=Int)
        spec.input("marks", valid_type=Str)
        spec.input("nap", valid_type=Float, default=Float(0.0))
        spec.output("total", valid_type=Int)
        spec.outline(cls.one, cls.two, cls.fork, cls.join, cls.five, cls.six)

    def _mark(self, index: int) -> None:
        leave_mark(Path(self.inputs.marks.value), self.pid, index, self.inputs.nap.value)

    def one(self) -> None:
        self._mark(0)
        self.ctx.total = self.inputs.x.value * 7 + 1

    def two(self) -> None:
        self._mark(1)
        self.ctx.total = self.ctx.total * 3 + 2

    def fork(self) -> ToContext:
        self._mark(2)
        first = self.submit(Double, x=Int(self.ctx.total))
        second = self.submit(Double, x=Int(self.ctx.total + 1))
        return ToContext(first=first, second=second)

    def join(self) -> None:
        self._mark(3)
        first = self.ctx.first.get_outputs_dict()["y"].value
        second = self.ctx.second.get_outputs_dict()["y"].value
        self.ctx.total = self.ctx.total * 5 + first - second

    def five(self) -> None:
        self._mark(4)
        self.ctx.total = (self.ctx.total * 31) % 1_000_003

    def six(self) -> None:
        self._mark(5)
        self.out("total", Int(self.ctx.total))
