"""``spec.retry``: a plain process whose ``run`` raised one of the listed exceptions is run
again, up to ``max_attempts`` times, waiting ``backoff`` seconds between attempts.

Each failed attempt is reported on the process node (exception type and message) and counted in
its ``retry_attempts`` attribute. On a durable runtime the count is checkpointed before the next
attempt, so a worker killed during attempt N resumes at attempt N: an attempt that failed before
the crash is not run again, and no attempt is lost from the count.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from actors.errors import SpecError

if TYPE_CHECKING:
    from actors.process import Process

#: The process attribute counting the attempts that failed (the last one too).
ATTEMPTS_ATTRIBUTE = "retry_attempts"

Backoff = float | Callable[[int], float]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a plain process retries ``run``."""

    max_attempts: int
    on: tuple[type[BaseException], ...]
    backoff: Backoff

    @classmethod
    def checked(cls, max_attempts: Any, on: Any, backoff: Any, owner: str) -> RetryPolicy:
        """A policy from ``spec.retry``'s arguments.

        Raises:
            SpecError: naming the argument that does not fit.
        """
        where = f"{owner}: spec.retry" if owner else "spec.retry"
        if not isinstance(max_attempts, int) or isinstance(max_attempts, bool) or max_attempts < 1:
            raise SpecError(
                f"{where}: max_attempts must be an int of at least 1, got {max_attempts!r}"
            )
        exceptions = on if isinstance(on, tuple) else (on,)
        if not exceptions or not all(
            isinstance(item, type) and issubclass(item, Exception) for item in exceptions
        ):
            raise SpecError(
                f"{where}: on must be an exception class or a tuple of them, got {on!r}"
            )
        number = isinstance(backoff, int | float) and not isinstance(backoff, bool)
        if not (callable(backoff) or (number and backoff >= 0)):
            raise SpecError(
                f"{where}: backoff must be seconds (>= 0) or a function of the attempt number "
                f"giving seconds, got {backoff!r}"
            )
        return cls(max_attempts, exceptions, backoff)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        backoff = self.backoff
        seconds = backoff(attempt) if callable(backoff) else backoff
        return max(0.0, float(seconds))


def run_with_retry(process: Process, policy: RetryPolicy) -> Any:
    """``process.run()`` under ``policy``; what the last attempt returned (or raised)."""
    while True:
        try:
            return process.run()
        except policy.on as exc:
            failed = process._retry_attempts + 1
            if failed >= policy.max_attempts:
                process.report(
                    "attempt %d of %d failed: %s: %s; no attempt left",
                    failed,
                    policy.max_attempts,
                    type(exc).__name__,
                    exc,
                )
                # Counted like the others (written before the end, which follows it).
                process.runtime.backend.write_nowait([_counted(process, failed)])
                raise
            _record_failed_attempt(process, failed, exc, policy)


def _counted(process: Process, failed: int) -> Any:
    """Count ``failed`` attempts on ``process`` and its node; the node's update to write."""
    process._retry_attempts = failed
    return process.node.set_process_attributes(**{ATTEMPTS_ATTRIBUTE: failed})


def _record_failed_attempt(
    process: Process, failed: int, exc: BaseException, policy: RetryPolicy
) -> None:
    delay = policy.delay(failed)
    process.report(
        "attempt %d of %d failed: %s: %s; retrying in %g s",
        failed,
        policy.max_attempts,
        type(exc).__name__,
        exc,
        delay,
    )
    update = _counted(process, failed)
    process._outputs.clear()  # what the failed attempt emitted is not the process's result
    runtime = process.runtime
    if runtime.durable:
        runtime.backend.write([update])
        runtime.save_checkpoint(process)
    else:
        runtime.backend.write_nowait([update])
    if delay:
        threading.Event().wait(delay)  # the backoff itself: nothing to wake it early
