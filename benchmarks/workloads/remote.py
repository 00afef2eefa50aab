"""Registry entries whose work runs in a peer's runner process (aiida-core, DBOS).

The code of each such workload lives in the peer's ``flows.py`` (it needs the peer, which only
the runner's interpreter has); an entry names it, sizes it and forwards setup and repeats to
the runner session (``benchmarks.venv_peer.client.RunnerSession``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from benchmarks.workloads.base import Kind, ProgressCallback, Workload

if TYPE_CHECKING:
    from benchmarks.figures import RepeatResult


def entry(
    peer: str,
    name: str,
    description: str,
    *,
    n: int,
    quick_n: int,
    warmup: int,
    variant: str = "",
    processes_per_iteration: int = 1,
    unit: str = "processes",
    batch: int | None = None,
    quick_batch: int | None = None,
    resize: Callable[[int], Workload] | None = None,
    max_repeats: int | None = None,
    sample_threads: bool = False,
    database: str = "sqlite",
) -> Workload:
    """A workload of ``peer`` that its runner sets up and times."""
    key = f"{name}:{variant}" if variant else name

    def setup(session: Any) -> Any:
        session.setup(key, batch)
        return session

    def run_repeat(session: Any, indices: range, progress: ProgressCallback | None) -> RepeatResult:
        return session.repeat(indices, progress, sample_threads=sample_threads)  # type: ignore[no-any-return]

    return Workload(
        name=name,
        description=description,
        peer=peer,
        kind=Kind.ENGINE,
        n=n,
        quick_n=quick_n,
        setup=setup,
        run_repeat=run_repeat,
        processes_per_iteration=processes_per_iteration,
        warmup=warmup,
        unit=unit,
        variant=variant,
        batch=batch,
        quick_batch=quick_batch,
        resize=resize,
        max_repeats=max_repeats,
        sample_threads=sample_threads,
        database=database,
    )
