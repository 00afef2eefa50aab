"""The interface every workload implements, so the harness can time any of them the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """What a workload measures; the report compares ``ENGINE`` costs to ``PRIMITIVE`` costs."""

    #: Processes run by a workflow engine: the figures users care about.
    ENGINE = "engine"
    #: One building block the engine is made of (an actor ask, an fsync, a commit): the floor.
    PRIMITIVE = "primitive"


def session_as_state(session: Any) -> Any:
    """Setup of workloads that need nothing but the peer's session (an engine's runtime)."""
    return session


def no_teardown(_state: Any) -> None:
    """Teardown of workloads whose state dies with the peer's session."""


@dataclass(frozen=True, slots=True)
class Workload:
    """One thing to time, for one peer.

    The harness opens a fresh session of ``peer`` per workload, calls ``setup`` once, runs
    ``run_once`` ``warmup`` times unmeasured and then ``n`` times per repeat, each call timed,
    and finally calls ``teardown``. Keeping the peer out of the callables' signatures (they get
    whatever the peer's session yields) lets the same workload name exist for several engines.

    Attributes:
        name: identifier used on the command line and in the report; the same name on two
            peers means the same work, which is what makes their figures comparable.
        description: one line for ``--list`` and the JSON report.
        peer: name of the peer (engine) in ``benchmarks.peers.PEERS`` that runs it.
        kind: engine workload or primitive.
        n: timed iterations per repeat in the full run.
        quick_n: timed iterations per repeat with ``--quick``.
        setup: called with the peer's session object; returns the state that ``run_once``
            and ``teardown`` receive (for engines usually the runtime itself).
        run_once: does one iteration; ``i`` is unique within the workload run, so inputs and
            file names never repeat. It should check its result cheaply, so that a fast but
            wrong engine cannot look good.
        teardown: releases what ``setup`` acquired (threads, connections).
        processes_per_iteration: processes (or primitive operations) one iteration does;
            throughput and per-process latency are scaled by it.
        warmup: unmeasured iterations before the first repeat (imports, caches, JIT-like
            first-call costs in SQLAlchemy and pykka would otherwise skew the first repeat).
        unit: what throughput counts, for the table header.
    """

    name: str
    description: str
    peer: str
    kind: Kind
    n: int
    quick_n: int
    run_once: Callable[[Any, int], None]
    setup: Callable[[Any], Any] = session_as_state
    teardown: Callable[[Any], None] = no_teardown
    processes_per_iteration: int = 1
    warmup: int = 20
    unit: str = "processes"

    @property
    def key(self) -> str:
        """``peer/name``: unique across the registry."""
        return f"{self.peer}/{self.name}"
