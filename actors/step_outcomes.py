"""What one step of a process came to: done (with an exit code), go on, or wait for children.

The driver (``actors.driver``) turns each outcome into its commands; a step returns one of
these rather than calling the engine, so that every kind of process ends its steps alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from actors.errors import SpecError
from actors.spec import ExitCode, check_exit_code


@dataclass(frozen=True, slots=True)
class StepDone:
    """The process has nothing left to do and ends with ``exit_code``."""

    exit_code: ExitCode


@dataclass(frozen=True, slots=True)
class StepContinue:
    """Another step follows at once."""


@dataclass(frozen=True, slots=True)
class StepWait:
    """The next step runs when the processes ``on`` (pids) have terminated."""

    on: frozenset[int]


StepOutcome = StepDone | StepContinue | StepWait


def as_exit_code(result: Any, owner: str) -> ExitCode:
    """Read what ``run`` or a step returned as an exit code (None and 0 are success)."""
    if result is None:
        return ExitCode()
    if isinstance(result, ExitCode):
        return check_exit_code(result, owner)
    if isinstance(result, int) and not isinstance(result, bool):
        return check_exit_code(ExitCode(result), owner)
    raise SpecError(
        f"{owner} returned {result!r}; a step returns None, an int exit status or an ExitCode "
        "(self.exit_codes.LABEL). Emit results with self.out(name, node)"
    )
