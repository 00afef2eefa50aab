"""Exit codes: what a process ends with, and the rules by which they are declared and returned.

Both rules exist for the database: a status is stored as a 64-bit integer, and a failure is
found again by its status, so a status names one failure only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from actors.errors import SpecError
from provenance.values import INT_MAX

if TYPE_CHECKING:
    from actors.attribute_dict import AttributeDict
    from actors.process import Process


class ExitCode(NamedTuple):
    """What a process ends with: status 0 is success; anything else a handled failure."""

    status: int = 0
    label: str = ""
    message: str = ""


def check_exit_code(exit_code: ExitCode, owner: str) -> ExitCode:
    """Hold an exit code a process ended with to the rules ``spec.exit_code`` declares by.

    Status 0 is success and says nothing more; any other status is a positive int that the
    database stores (64 bits), so a process never ends with a status nobody can record.

    Raises:
        SpecError: naming what ``owner`` returned and what is allowed.
    """
    # Typed as int and str, but built by user code: anything may come.
    status, label, message = cast(tuple[Any, Any, Any], exit_code)
    problem = None
    if not isinstance(status, int) or isinstance(status, bool):
        problem = f"its status {status!r} is not an int"
    elif not 0 <= status <= INT_MAX:
        problem = (
            f"its status {status} is outside 0..{INT_MAX} (not negative, at most 64 bits, "
            "what the database stores)"
        )
    elif not isinstance(label, str) or not isinstance(message, str):
        problem = "its label and message must be strings"
    elif status == 0 and message:
        problem = "status 0 means success and carries no message"
    if problem is None:
        return exit_code
    raise SpecError(
        f"{owner} returned {exit_code!r}, which is not a valid exit code: {problem}. Return "
        "None for success, or a failure declared with spec.exit_code(status, LABEL, message) "
        "as self.exit_codes.LABEL"
    )


def declared_exit_code(
    status: int, label: str, message: str, declared: Iterable[ExitCode]
) -> ExitCode:
    """The failure ``spec.exit_code(status, label, message)`` declares, beside ``declared``.

    Raises:
        SpecError: for a status that is not a positive 64-bit int, or one another label has.
    """
    if not isinstance(status, int) or isinstance(status, bool) or not 0 < status <= INT_MAX:
        raise SpecError(
            f"exit code {label!r} needs a positive int status of at most {INT_MAX} "
            f"(64 bits), got {status!r}"
        )
    for known in declared:
        if known.status == status and known.label != label:
            raise SpecError(f"exit status {status} is used by both {known.label} and {label}")
    return ExitCode(status, label, message)


class DeclaredExitCodes:
    """``Process.exit_codes``: the exit codes the spec of a process class declares, by label.

    A descriptor rather than a property, so that it reads on the class as well as on an
    instance: ``@process_handler(exit_codes=[Child.exit_codes.ERROR_X])`` is written in another
    class's body, where there is no ``Child`` instance to ask.
    """

    def __get__(self, instance: object, owner: type[Process]) -> AttributeDict:
        return owner.spec().exit_codes
