"""``python -m actors.demo``: run a small workflow on the embedded default and show its provenance.

It is the first thing a new user runs, so it uses only the public API and prints what a
workflow engine with provenance promises: the result, and the graph of how it came to be.
"""

from __future__ import annotations

import logging
import sys

import structlog

from actors import (
    Process,
    ProcessSpec,
    Runtime,
    WorkChain,
    append_,
    while_,
    workfunction,
)
from actors.workchain import WorkChainSpec
from provenance import Data, Int, LinkType, List, ProcessNode


@workfunction
def add(a: Int, b: Int) -> Data:
    """Add two integers."""
    return a + b


@workfunction
def add_and_double(a: Int, b: Int) -> Data:
    """Call another workfunction, so that the graph has a CALL link."""
    doubled: Data = add(a, b) * 2
    return doubled


class Square(Process):
    """A plain process with a spec, a report line and one output."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """One Int in, its square out."""
        super().define(spec)
        spec.input("x", valid_type=Int, help="the number to square")
        spec.output("square", valid_type=Int)

    def run(self) -> None:
        """Square the input."""
        self.report("squaring %d", self.inputs.x.value)
        self.out("square", self.inputs.x * self.inputs.x)


class SquareAll(WorkChain):
    """A work chain: squares each number in a child process, two at a time, then sums them."""

    @classmethod
    def define(cls, spec: WorkChainSpec) -> None:  # type: ignore[override]
        """A list of integers in, the sum of their squares out."""
        super().define(spec)
        spec.input("numbers", valid_type=List)
        spec.output("total", valid_type=Int)
        spec.outline(cls.setup, while_(cls.has_more)(cls.launch_pair), cls.add_up)

    def setup(self) -> None:
        """Keep the numbers still to square in ctx."""
        self.ctx.todo = list(self.inputs.numbers.value)

    def has_more(self) -> bool:
        """True while numbers are left."""
        return bool(self.ctx.todo)

    def launch_pair(self) -> None:
        """Two children at a time; the next step runs when both have ended."""
        pair, self.ctx.todo = self.ctx.todo[:2], self.ctx.todo[2:]
        for number in pair:
            self.to_context(squares=append_(self.submit(Square, x=Int(number))))
        self.report("squaring %s in child processes", pair)

    def add_up(self) -> None:
        """Sum the children's outputs, in submission order."""
        total = sum(child.get_outputs_dict()["square"].value for child in self.ctx.squares)
        self.out("total", Int(total))


def _describe(node: ProcessNode, indent: str = "") -> None:
    state = node.process_state.name if node.process_state else "?"
    print(f"{indent}{node.process_label} <pk {node.pk}> {state} exit {node.exit_status}")
    for label, value in node.get_inputs_dict(LinkType.INPUT).items():
        print(f"{indent}  in  {label:8} = {value!r} <pk {value.pk}>")
    for label, value in node.get_outputs_dict().items():
        if not isinstance(value, ProcessNode):
            print(f"{indent}  out {label:8} = {value!r} <pk {value.pk}>")
    for entry in node.logs:
        print(f"{indent}  log {entry.message}")
    for child in node.called:
        _describe(child, indent + "    ")


def main() -> None:
    """Run the demo in ``$WORKACTORS_HOME`` (default ``~/.workactors``)."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    with Runtime() as runtime:
        print(f"workactors demo, provenance in {runtime.storage.location}\n")
        result, node = add_and_double.run_get_node(Int(4), Int(5))
        print(f"add_and_double(4, 5) = {result}")
        outputs, square_node = runtime.run_get_node(Square, x=Int(7))
        print(f"Square(x=7) = {outputs['square']}")
        chain_outputs, chain_node = runtime.run_get_node(SquareAll, numbers=List([1, 2, 3]))
        print(f"SquareAll([1, 2, 3]) = {chain_outputs['total']}\n")
        runtime.backend.sync()
        print("provenance:")
        assert isinstance(square_node, ProcessNode)
        assert isinstance(chain_node, ProcessNode)
        _describe(node)
        _describe(square_node)
        _describe(chain_node)
        print(f"\nsee it again with: workactors process show {node.pk}")


if __name__ == "__main__":
    main()
