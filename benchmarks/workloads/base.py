"""The interface every workload implements, so the harness can time any of them the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.figures import RepeatResult

ProgressCallback = Callable[[int], None]
"""Called with the number of iterations just done, so a progress bar can advance."""

RepeatRunner = Callable[[Any, range, ProgressCallback | None], "RepeatResult"]
"""Times a whole repeat elsewhere (in another OS process) and returns its figures."""


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
    ``warmup`` iterations unmeasured and then ``n`` per repeat, and finally calls ``teardown``.
    Keeping the peer out of the callables' signatures (they get whatever the peer's session
    yields) lets the same workload name exist for several engines.

    An iteration is timed in one of two ways. ``run_once`` does one iteration in this process
    and the harness times it. ``run_repeat`` is for engines that run in another OS process
    (aiida-core in its own virtual environment): timing there, around the same loop, keeps the
    pipe between the two processes off the clock. Exactly one of the two is set.

    Attributes:
        name: identifier used on the command line and in the report; the same name on two
            peers means the same work, which is what makes their figures comparable.
        description: one line for ``--list`` and the JSON report.
        peer: name of the peer (engine) in ``benchmarks.peers.PEERS`` that runs it.
        kind: engine workload or primitive.
        n: timed iterations per repeat in the full run.
        quick_n: timed iterations per repeat with ``--quick``.
        run_once: does one iteration; ``i`` is unique within the workload run, so inputs and
            file names never repeat. It should check its result cheaply, so that a fast but
            wrong engine cannot look good.
        run_repeat: times iterations ``indices`` remotely (see above).
        setup: called with the peer's session object; returns the state that ``run_once``
            and ``teardown`` receive (for engines usually the runtime itself).
        teardown: releases what ``setup`` acquired (threads, connections).
        processes_per_iteration: processes (or primitive operations) one iteration counts;
            throughput and per-process latency are scaled by it.
        warmup: unmeasured iterations before the first repeat (imports, caches, first-call
            costs in SQLAlchemy and pykka would otherwise skew the first repeat).
        unit: what throughput counts, for the table header.
        variant: tells apart two ways one engine does the same workload (aiida-core's
            calcfunction and workfunction for ``workfunction_add``); empty if there is one.
        batch: work chains launched together in one iteration, for the scale workload;
            ``None`` for workloads that have no such size.
        quick_batch: ``batch`` with ``--quick``.
        resize: rebuilds the workload for another ``batch`` (``--quick``, ``--scale-n``).
        max_repeats: caps the run's repeats for a workload whose one iteration takes long
            (the 10,000 work chains); at least 3, as the rules ask.
        sample_threads: sample the thread count while it runs (a sampler thread costs a
            little GIL time, so only where threads are the question).
        unavailable: why this workload cannot run with the code checked out (a missing API);
            it is then listed as skipped, not failed.
        quick: runs with ``--quick``; False for a variant whose code path another quick
            workload covers (``--quick`` must stay under a minute for CI).
        database: ``sqlite`` or ``postgresql`` (``benchmarks.databases``): what the peer's
            session opens; figures are compared only between workloads on the same one.
    """

    name: str
    description: str
    peer: str
    kind: Kind
    n: int
    quick_n: int
    run_once: Callable[[Any, int], None] | None = None
    run_repeat: RepeatRunner | None = None
    setup: Callable[[Any], Any] = session_as_state
    teardown: Callable[[Any], None] = no_teardown
    processes_per_iteration: int = 1
    warmup: int = 20
    unit: str = "processes"
    variant: str = ""
    batch: int | None = None
    quick_batch: int | None = None
    resize: Callable[[int], Workload] | None = None
    max_repeats: int | None = None
    sample_threads: bool = False
    unavailable: str | None = None
    quick: bool = True
    database: str = "sqlite"

    def __post_init__(self) -> None:
        if (self.run_once is None) == (self.run_repeat is None) and self.unavailable is None:
            raise ValueError(f"workload {self.name}: set exactly one of run_once and run_repeat")
        if self.max_repeats is not None and self.max_repeats < 3:
            raise ValueError(f"workload {self.name}: max_repeats below 3 gives no honest median")

    @property
    def key(self) -> str:
        """``peer/name`` (with ``:variant``): unique across the registry."""
        return f"{self.peer}/{self.label}"

    @property
    def label(self) -> str:
        """``name``, ``name:variant``, and ``@pg`` on PostgreSQL, as tables name it."""
        label = f"{self.name}:{self.variant}" if self.variant else self.name
        return label if self.database == "sqlite" else f"{label}@pg"

    @property
    def runner_key(self) -> str:
        """``name`` or ``name:variant``: how a peer's ``flows.WORKLOADS`` names it."""
        return f"{self.name}:{self.variant}" if self.variant else self.name
