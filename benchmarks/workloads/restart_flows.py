"""The processes of the ``restart`` workload: a child that fails twice, then succeeds, run by
a ``BaseRestartWorkChain`` whose handler bumps its attempt. Module-level, so a passivated work
chain can be revived by class path."""

from __future__ import annotations

from typing import Any

from actors import BaseRestartWorkChain, ExitCode, Process, ProcessHandlerReport, process_handler
from provenance import Int, to_node

#: The attempt that succeeds: the two before it fail.
SUCCEEDS_AT = 3


class FailsTwice(Process):
    """Ends with ERROR_NOT_YET until ``attempt`` reaches ``SUCCEEDS_AT``; then ``y = x + 1``."""

    @classmethod
    def define(cls, spec: Any) -> None:
        """Inputs x and attempt, output y, one failure exit code."""
        super().define(spec)
        spec.input("x", valid_type=Int, serializer=to_node)
        spec.input("attempt", valid_type=Int, serializer=to_node)
        spec.output("y", valid_type=Int)
        spec.exit_code(300, "ERROR_NOT_YET", "fails until its third attempt")

    def run(self) -> ExitCode | None:
        """Fail, or emit y."""
        if self.inputs.attempt.value < SUCCEEDS_AT:
            code: ExitCode = self.exit_codes.ERROR_NOT_YET
            return code
        self.out("y", Int(self.inputs.x.value + 1))
        return None


class RestartsFailsTwice(BaseRestartWorkChain):
    """Restarts FailsTwice with the next attempt number."""

    _process_class = FailsTwice

    @classmethod
    def define(cls, spec: Any) -> None:
        """Expose the child's inputs and outputs."""
        super().define(spec)
        spec.expose_inputs(FailsTwice, namespace="child")
        spec.expose_outputs(FailsTwice)

    @process_handler(exit_codes=[300])
    def next_attempt(self, node: Any) -> ProcessHandlerReport:
        """Try again with the attempt after the one that failed."""
        self.ctx.inputs["attempt"] = Int(node.get_inputs_dict()["attempt"].value + 1)
        return ProcessHandlerReport(do_break=True)
