"""``BatchThreads``: the calls of a batch run together, and the caller hears of every failure."""

from __future__ import annotations

import threading
from functools import partial

import pytest

from persistence.batch_threads import BatchThreads


def test_the_calls_of_a_batch_run_at_the_same_time() -> None:
    threads = BatchThreads(4, "test-batch")
    all_in = threading.Barrier(4, timeout=10)  # broken, and raising, unless all four wait at once

    assert threads.run_all(dict.fromkeys(range(4), all_in.wait)) == []


def test_what_the_calls_raise_comes_back_by_index_and_the_others_still_run() -> None:
    threads = BatchThreads(2, "test-batch")
    ran: list[int] = []

    def call(index: int) -> None:
        ran.append(index)
        if index % 2:
            raise OSError(5, f"failed {index}")

    failures = threads.run_all({index: partial(call, index) for index in range(5)})

    assert sorted(ran) == [0, 1, 2, 3, 4]
    assert [index for index, _error in failures] == [1, 3]
    assert all(isinstance(error, OSError) for _index, error in failures)
    assert str(failures[1][1]) == "[Errno 5] failed 3"


def test_a_batch_after_a_failed_one_runs_on_the_same_threads() -> None:
    threads = BatchThreads(2, "test-batch")

    def fail() -> None:
        raise RuntimeError("hook stopped it")

    [(index, error)] = threads.run_all({0: fail, 1: lambda: None})
    assert index == 0
    with pytest.raises(RuntimeError, match="hook stopped it"):
        raise error
    names: set[str] = set()
    threads.run_all({0: lambda: names.add(threading.current_thread().name), 1: lambda: None})
    assert names <= {"test-batch-1", "test-batch-2"}
