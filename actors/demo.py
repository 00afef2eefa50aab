"""``python -m actors.demo``: run a small workflow on the embedded default and show its provenance.

It is the first thing a new user runs, so it uses only the public API and prints what a
workflow engine with provenance promises: the result, and the graph of how it came to be.
"""

from __future__ import annotations

import logging
import sys

import structlog

from actors import Process, ProcessSpec, Runtime, workfunction
from provenance import Data, Int, LinkType, ProcessNode


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
        print(f"Square(x=7) = {outputs['square']}\n")
        runtime.backend.sync()
        print("provenance:")
        assert isinstance(square_node, ProcessNode)
        _describe(node)
        _describe(square_node)
        print(f"\nsee it again with: workactors process show {node.pk}")


if __name__ == "__main__":
    main()
