"""The harness's own logic, with fake peers: interleaving, failures, statistics, sizing."""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from benchmarks import compare, harness, report
from benchmarks.__main__ import _scale_size, _sized
from benchmarks.bytecode import children_cache_bytecode
from benchmarks.figures import RepeatResult, WorkloadResult, percentile
from benchmarks.harness import run_group
from benchmarks.meters import MemoryMeter, ThreadSampler
from benchmarks.peers import LocalPeer
from benchmarks.workloads import WORKLOADS, groups, scale
from benchmarks.workloads.base import Kind, ProgressCallback, Workload


@pytest.fixture(autouse=True)
def _no_full_collections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Collecting the test session's heap before every repeat only makes these tests slow."""
    monkeypatch.setattr(harness, "full_collection", lambda: None)


class FakePeer(LocalPeer):
    """A local peer whose session is a list that records what ran."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    def is_available(self) -> bool:
        return True

    def version(self) -> str | None:
        return None

    @contextmanager
    def session(self, home: Path, seed: int, *, database: str = "sqlite") -> Iterator[list[str]]:
        (home / "db").write_bytes(b"x" * 10)
        yield self.log

    def database_files(self, home: Path) -> list[Path]:
        return [home / "db"]


def _run(
    tmp_path: Path,
    workloads: list[Workload],
    peers: dict[str, Any],
    *,
    iterations: int,
    repeats: int,
) -> list[WorkloadResult]:
    return run_group(
        workloads,
        peers,
        iterations=lambda _w: iterations,
        repeats=repeats,
        seed=1,
        memory=MemoryMeter(),
        base_dir=tmp_path,
    )


def _workload(peer: str, run_once: Callable[[Any, int], None], **kwargs: Any) -> Workload:
    fields: dict[str, Any] = {"n": 2, "quick_n": 1, "warmup": 1, **kwargs}
    return Workload(
        name="same", description="d", peer=peer, kind=Kind.ENGINE, run_once=run_once, **fields
    )


def _recorder(peer: str) -> Callable[[list[str], int], None]:
    def run_once(log: list[str], i: int) -> None:
        log.append(f"{peer}{i}")

    return run_once


def test_repeats_of_two_peers_alternate_after_both_warmed_up(tmp_path: Path) -> None:
    log: list[str] = []
    peers: dict[str, Any] = {"a": FakePeer("a", log), "b": FakePeer("b", log)}
    workloads = [_workload("a", _recorder("a")), _workload("b", _recorder("b"))]

    results = _run(tmp_path, workloads, peers, iterations=2, repeats=2)

    assert log == ["a0", "b0", "a1", "a2", "b1", "b2", "a3", "a4", "b3", "b4"]
    assert [len(r.repeat_results) for r in results] == [2, 2]
    assert [r.database_bytes for r in results] == [10, 10]


def test_a_failing_peer_stops_alone_and_keeps_its_error(tmp_path: Path) -> None:
    log: list[str] = []
    peers: dict[str, Any] = {"a": FakePeer("a", log), "b": FakePeer("b", log)}

    def broken(_log: list[str], i: int) -> None:
        if i >= 2:
            raise RuntimeError("boom")

    results = _run(
        tmp_path,
        [_workload("a", broken), _workload("b", _recorder("b"))],
        peers,
        iterations=2,
        repeats=3,
    )

    assert results[0].error == "RuntimeError: boom"
    assert not results[0].ok
    assert results[1].ok
    assert len(results[1].repeat_results) == 3


def test_max_repeats_caps_one_workload_of_the_group(tmp_path: Path) -> None:
    log: list[str] = []
    peers: dict[str, Any] = {"a": FakePeer("a", log), "b": FakePeer("b", log)}
    workloads = [
        _workload("a", _recorder("a"), max_repeats=3, warmup=0),
        _workload("b", _recorder("b"), warmup=0),
    ]

    results = _run(tmp_path, workloads, peers, iterations=1, repeats=5)

    assert [len(r.repeat_results) for r in results] == [3, 5]


def test_a_remote_workload_times_its_repeat_itself(tmp_path: Path) -> None:
    seen: list[range] = []

    def run_repeat(_state: Any, indices: range, progress: ProgressCallback | None) -> RepeatResult:
        seen.append(indices)
        return RepeatResult(2.0, tuple(1.0 for _ in indices))

    workload = Workload(
        name="same",
        description="d",
        peer="a",
        kind=Kind.ENGINE,
        n=4,
        quick_n=1,
        warmup=2,
        run_repeat=run_repeat,
    )
    (result,) = _run(tmp_path, [workload], {"a": FakePeer("a", [])}, iterations=4, repeats=3)

    assert seen == [range(2), range(2, 6), range(6, 10), range(10, 14)]
    assert result.median_throughput == pytest.approx(2.0)


def test_a_workload_needs_exactly_one_way_to_run() -> None:
    with pytest.raises(ValueError, match="exactly one of run_once and run_repeat"):
        Workload(name="x", description="d", peer="a", kind=Kind.ENGINE, n=1, quick_n=1)


def test_a_workload_refuses_fewer_than_three_capped_repeats() -> None:
    with pytest.raises(ValueError, match="max_repeats below 3"):
        _workload("a", _recorder("a"), max_repeats=2)


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 95) == 5.0
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_paired_ratios_pair_repeats_in_order() -> None:
    ours = WorkloadResult(_workload("workactors", _recorder("a")), iterations=1)
    ours.repeat_results = [RepeatResult(1.0, (1.0,)), RepeatResult(0.5, (0.5,))]
    theirs = WorkloadResult(_workload("aiida", _recorder("b")), iterations=1)
    theirs.repeat_results = [RepeatResult(10.0, (10.0,)), RepeatResult(10.0, (10.0,))]

    (comparison,) = compare.compare([ours, theirs], "aiida", {}, {})

    assert comparison.paired_ratios() == [10.0, 20.0]
    assert comparison.ratio == pytest.approx(15.0)


def test_a_workload_missing_on_the_peer_says_why() -> None:
    ours = WorkloadResult(_workload("workactors", _recorder("a")), iterations=1)
    ours.repeat_results = [RepeatResult(1.0, (1.0,))]

    (comparison,) = compare.compare([ours], "aiida", {"same": "no counterpart"}, {})

    assert not comparison.comparable
    assert comparison.note == "no counterpart"


def test_scale_sizes_follow_quick_and_per_peer_overrides() -> None:
    workload = scale.make(scale.BATCH)

    assert _sized(workload, quick=True, scale_n=[]).batch == scale.QUICK_BATCH
    assert _sized(workload, quick=False, scale_n=[("aiida", 7)]).batch == scale.BATCH
    resized = _sized(workload, quick=False, scale_n=[(None, 30)])
    assert resized.batch == 30
    assert resized.processes_per_iteration == 61
    assert _scale_size("aiida=1,000") == ("aiida", 1000)
    assert _scale_size("20") == (None, 20)


def test_a_large_scale_batch_gets_time_in_proportion_before_it_counts_as_stuck() -> None:
    # 100,000 waiters take about ten minutes on a loaded machine: a fixed quarter of an hour
    # would fail a working engine at the next burst of load.
    assert scale.timeout(1_000) == scale.timeout(scale.BATCH) == scale.TIMEOUT_S
    assert scale.timeout(100_000) == 100_000 * scale.TIMEOUT_PER_WAITER_S > 2 * scale.TIMEOUT_S


def test_same_named_workloads_form_one_group_with_workactors_first() -> None:
    for group in groups(WORKLOADS):
        assert len({w.name for w in group}) == 1
        peers = [w.peer for w in group]
        if "aiida" in peers and "workactors" in peers:
            assert peers.index("workactors") < peers.index("aiida")


def test_the_thread_sampler_counts_a_thread_alive_inside_it() -> None:
    import threading

    release = threading.Event()
    worker = threading.Thread(target=release.wait)
    try:
        with ThreadSampler() as sampler:
            before = sampler.peak
            worker.start()
        # The sampler takes a last count on exit, while the worker still waits.
        assert sampler.peak >= before + 1
    finally:
        release.set()
        worker.join()


def test_a_table_printed_to_a_pipe_keeps_every_unit_and_label_whole(tmp_path: Path) -> None:
    """Issue 14: the non-terminal table cut units to four letters ("dura" for durable steps)."""
    log: list[str] = []
    peers: dict[str, Any] = {"a": FakePeer("a", log)}
    workload = _workload(
        "a", _recorder("a"), unit="durable steps", variant="a-rather-long-variant-label-of-4w"
    )
    results = _run(tmp_path, [workload], peers, iterations=2, repeats=3)
    piped = io.StringIO()

    report.print_table(results, "title", Console(file=piped, force_terminal=False))

    printed = piped.getvalue()
    assert "durable steps/s" in printed
    assert "a-rather-long-variant-label-of-4w" in printed
    assert "…" not in printed
    assert len(printed.splitlines()) == 6  # title, 3 rules, header, one row: nothing wrapped


def test_notes_of_repeats_are_reported_as_medians_in_the_json() -> None:
    result = WorkloadResult(_workload("workactors", _recorder("a")), iterations=1)
    result.repeat_results = [
        RepeatResult(1.0, (1.0,), notes={"checkpoint bytes": size}) for size in (600, 700, 650)
    ]
    assert result.notes == {"checkpoint bytes": 650}
    data = report.result_to_dict(result, [])
    assert data["notes"] == {"checkpoint bytes": 650}
    assert [r["notes"] for r in data["repeat_results"]] == [
        {"checkpoint bytes": s} for s in (600, 700, 650)
    ]


def test_the_pythons_a_run_starts_cache_their_bytecode_even_where_the_environment_says_not_to(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A daemon worker that compiles the engine at every start times the compiler, not the
    engine: the harness lets its children cache bytecode under its own cache folder."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("PYTHONPYCACHEPREFIX", raising=False)

    children_cache_bytecode()

    assert "PYTHONDONTWRITEBYTECODE" not in os.environ
    assert os.environ["PYTHONPYCACHEPREFIX"] == str(tmp_path / "workactors-bench" / "bytecode")
