"""Processes for tests: ``DummyProcess`` does nothing; ``BadOutput`` breaks its spec."""

from __future__ import annotations

from actors.process import Process
from actors.spec import ProcessSpec
from provenance.data import Int


class DummyProcess(Process):
    """Does nothing and finishes."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """Any inputs, any outputs."""
        super().define(spec)
        spec.dynamic_input()
        spec.dynamic_output()

    def run(self) -> None:
        """Nothing to do."""


class BadOutput(Process):
    """Emits an output that is not in its spec, which raises ``OutputValidationError``."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """No outputs declared."""
        super().define(spec)

    def run(self) -> None:
        """Emit the undeclared output."""
        self.out("bad_output", Int(5))
