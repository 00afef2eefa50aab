"""Reusable threads: a finished task's thread runs the next one; idle ones beyond the limit end."""

from __future__ import annotations

import threading
import time

import pytest

from actors import Process, Runtime
from actors.errors import ActorError
from actors.threads import (
    BUSY_THREADS_ENV,
    DEFAULT_ROOM,
    ROOM,
    THREADS,
    ReusableThreads,
    room_from_environment,
)

TIMEOUT = 10.0


def test_a_thread_that_finished_its_task_runs_the_next_one() -> None:
    pool = ReusableThreads("test")
    threads: list[threading.Thread] = []
    done = threading.Semaphore(0)

    def task() -> None:
        threads.append(threading.current_thread())
        done.release()

    pool.run(task)
    assert done.acquire(timeout=TIMEOUT)
    assert pool.wait_idle(1, TIMEOUT)
    pool.run(task)
    assert done.acquire(timeout=TIMEOUT)
    assert threads[0] is threads[1]


def test_tasks_that_run_at_once_get_threads_of_their_own() -> None:
    pool = ReusableThreads("test")
    barrier = threading.Barrier(4, timeout=TIMEOUT)
    idents: set[int] = set()
    finished = threading.Semaphore(0)

    def task() -> None:
        idents.add(threading.get_ident())
        barrier.wait()  # passes only if all four run at the same time
        finished.release()

    for _ in range(4):
        pool.run(task)
    for _ in range(4):
        assert finished.acquire(timeout=TIMEOUT)
    assert len(idents) == 4


def test_threads_beyond_the_idle_limit_end() -> None:
    pool = ReusableThreads("test", idle_limit=2)
    barrier = threading.Barrier(5, timeout=TIMEOUT)
    threads: list[threading.Thread] = []

    def task() -> None:
        threads.append(threading.current_thread())
        barrier.wait()

    for _ in range(5):
        pool.run(task)
    assert pool.wait_idle(2, TIMEOUT)
    for thread in threads:
        thread.join(0.2)  # the three beyond the limit end; the two idle ones stay
    assert sum(thread.is_alive() for thread in threads) == 2
    assert pool.idle == 2


def test_process_actors_run_on_reused_threads(runtime: Runtime) -> None:
    names: list[str] = []

    class NotesItsThread(Process):
        def run(self) -> None:
            names.append(threading.current_thread().name)

    for _ in range(200):
        runtime.run(NotesItsThread)
    # 200 processes one after another: a few threads (each named once when it starts), reused.
    assert len(names) == 200
    assert len(set(names)) < 10


def test_waiting_for_room_returns_at_once_below_the_limit_and_times_out_at_it() -> None:
    pool = ReusableThreads("test")
    release = threading.Event()
    started = threading.Semaphore(0)

    def task() -> None:
        started.release()
        release.wait(TIMEOUT)

    assert pool.wait_for_room(1, timeout=0)
    pool.run(task)
    assert started.acquire(timeout=TIMEOUT)
    assert pool.busy == 1
    assert not pool.wait_for_room(1, timeout=0)
    release.set()
    assert pool.wait_for_room(1, timeout=TIMEOUT)


class Nap(Process):
    """A step that waits on I/O for a tenth of a second (the nap is the work, not a wait for
    a state), holding its thread meanwhile."""

    def run(self) -> None:
        time.sleep(0.1)


def test_processes_launched_in_a_loop_of_user_code_hold_a_bounded_number_of_threads(
    runtime: Runtime,
) -> None:
    """Found by using it: 500 launches from one loop, each step waiting on I/O, had 838
    threads at once; launches that do not wait for their process now wait for room."""
    busiest = 0

    def note_busy(_event: object) -> None:
        nonlocal busiest
        busiest = max(busiest, THREADS.busy)

    runtime.add_listener(note_busy)
    futures = [runtime.launch(Nap, {})[1] for _ in range(3 * ROOM)]
    for future in futures:
        future.result(timeout=TIMEOUT)
    runtime.remove_listener(note_busy)

    assert ROOM // 2 < busiest <= ROOM + ROOM // 4  # reached and held: all would nap at once


def test_the_number_of_busy_threads_is_set_by_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(BUSY_THREADS_ENV, "200")
    assert room_from_environment() == 200
    monkeypatch.setenv(BUSY_THREADS_ENV, "")
    assert room_from_environment() == DEFAULT_ROOM
    for wrong in ("0", "-3", "many", "1.5"):
        monkeypatch.setenv(BUSY_THREADS_ENV, wrong)
        with pytest.raises(ActorError, match=f"{BUSY_THREADS_ENV}='{wrong}' is not a number"):
            room_from_environment()
