"""``RLock``: reentrant per owner, exclusive across threads and OS processes, freed on death."""

from __future__ import annotations

import os
import pickle
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from persistence import (
    LOCK_NB,
    LOCK_SH,
    LockedError,
    LockError,
    LockNotHeldError,
    LockTimeoutError,
    RLock,
)
from tests.persistence import children
from tests.persistence.helpers import mode_of

WAIT = 10.0


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    """A lock file that does not exist yet."""
    return tmp_path / "process.lock"


def in_thread(func: Callable[[], Any]) -> Future[Any]:
    """Run ``func`` in a new thread; its result or error comes back in the future."""
    result: Future[Any] = Future()

    def target() -> None:
        try:
            result.set_result(func())
        except BaseException as exc:
            result.set_exception(exc)

    threading.Thread(target=target, daemon=True).start()
    return result


def error_of(func: Callable[[], Any]) -> BaseException | None:
    """What ``func()`` raised, or None."""
    try:
        func()
    except BaseException as exc:
        return exc
    return None


def test_the_same_thread_acquires_n_times_and_the_lock_is_free_only_after_n_releases(
    lock_path: Path,
) -> None:
    lock = RLock(lock_path)
    for _ in range(3):
        lock.acquire()
    other = RLock(lock_path, timeout=0)
    for _ in range(2):
        lock.release()
        with pytest.raises(LockTimeoutError):
            other.acquire()
    lock.release()
    other.acquire()
    other.release()
    assert not lock.is_locked


def test_another_thread_on_the_same_lock_waits_for_the_timeout_then_gets_an_error(
    lock_path: Path,
) -> None:
    lock = RLock(lock_path)
    with lock:

        def attempt() -> float:
            started = time.monotonic()
            with pytest.raises(LockTimeoutError, match=r"waited 0\.2 s for the lock on .*process"):
                lock.acquire(timeout=0.2)
            return time.monotonic() - started

        waited = in_thread(attempt).result(WAIT)
    assert waited >= 0.2


def test_another_thread_with_its_own_lock_object_is_excluded_by_the_file_lock(
    lock_path: Path,
) -> None:
    with RLock(lock_path):
        outcome = in_thread(lambda: children.try_lock(str(lock_path), 0.2)).result(WAIT)
    assert outcome == "LockTimeoutError"


def test_two_lock_objects_on_one_file_exclude_each_other_even_in_one_thread(
    lock_path: Path,
) -> None:
    with RLock(lock_path), pytest.raises(LockTimeoutError):
        RLock(lock_path, timeout=0).acquire()


@pytest.mark.parametrize("own_object", [False, True], ids=["same object", "own object"])
def test_a_waiting_thread_gets_the_lock_once_the_holder_releases_it(
    lock_path: Path, own_object: bool
) -> None:
    lock = RLock(lock_path, check_interval=0.01)
    lock.acquire()
    waiting = threading.Event()

    def wait_for_it() -> bool:
        theirs = RLock(lock_path, check_interval=0.01) if own_object else lock
        waiting.set()
        theirs.acquire(timeout=WAIT)
        owned = theirs.is_owned()
        theirs.release()
        return owned

    result = in_thread(wait_for_it)
    assert waiting.wait(WAIT)
    lock.release()
    assert result.result(WAIT) is True


def test_fail_when_locked_raises_at_once_instead_of_waiting(lock_path: Path) -> None:
    started = time.monotonic()
    with RLock(lock_path):
        impatient = RLock(lock_path, timeout=60, fail_when_locked=True)
        with pytest.raises(LockedError, match=r"process\.lock is locked by .*try again"):
            impatient.acquire()
    shared = RLock(lock_path, timeout=60, fail_when_locked=True)
    with shared:
        refused = in_thread(lambda: error_of(shared.acquire)).result(WAIT)
    assert isinstance(refused, LockedError)
    assert "another owner in this process" in str(refused)
    assert time.monotonic() - started < 30


def test_shared_locks_admit_each_other_and_keep_an_exclusive_one_out(lock_path: Path) -> None:
    with (
        RLock(lock_path, flags=LOCK_SH),
        RLock(lock_path, flags=LOCK_SH | LOCK_NB),
        pytest.raises(LockTimeoutError),
    ):
        RLock(lock_path, timeout=0).acquire()
    with RLock(lock_path, timeout=0):
        pass


def test_fail_when_locked_may_be_asked_for_one_acquisition(lock_path: Path) -> None:
    with RLock(lock_path), pytest.raises(LockedError):
        RLock(lock_path, timeout=60).acquire(fail_when_locked=True)


def test_releasing_a_lock_one_does_not_hold_raises_lock_not_held_error(lock_path: Path) -> None:
    lock = RLock(lock_path)
    with pytest.raises(LockNotHeldError, match="does not hold it"):
        lock.release()
    with lock:
        assert isinstance(in_thread(lambda: error_of(lock.release)).result(WAIT), LockNotHeldError)
        assert lock.is_owned()


def test_an_explicit_owner_may_release_from_another_thread(lock_path: Path) -> None:
    lock = RLock(lock_path)
    token = object()
    lock.acquire(owner=token)
    assert lock.is_owned(token)
    assert not lock.is_owned()
    in_thread(lambda: lock.acquire(owner=token)).result(WAIT)
    in_thread(lambda: lock.release(owner=token)).result(WAIT)
    in_thread(lambda: lock.release(owner=token)).result(WAIT)
    assert not lock.is_locked
    with RLock(lock_path, timeout=0):
        pass


def test_the_lock_file_is_private_whatever_the_umask(lock_path: Path, no_umask: None) -> None:
    with RLock(lock_path) as lock:
        assert lock.filename == str(lock_path)
        assert mode_of(lock_path) == 0o600


def test_a_lock_file_removed_while_held_is_recreated_and_still_excludes_others(
    lock_path: Path,
) -> None:
    holder = RLock(lock_path)
    holder.acquire()
    waiting = threading.Event()
    waiter = RLock(lock_path, check_interval=0.01)

    def take_it() -> None:
        waiting.set()
        waiter.acquire(timeout=WAIT, owner="waiter")

    taken = in_thread(take_it)
    assert waiting.wait(WAIT)
    lock_path.unlink()
    holder.release()
    taken.result(WAIT)
    # Whoever waited holds the file now at the path, so a newcomer is kept out.
    assert lock_path.exists()
    with pytest.raises(LockTimeoutError):
        RLock(lock_path, timeout=0).acquire()
    waiter.release(owner="waiter")


def test_a_lock_whose_folder_is_missing_raises_a_lock_error(tmp_path: Path) -> None:
    with pytest.raises(LockError, match=r"cannot open lock file .*folder exists"):
        RLock(tmp_path / "missing" / "x.lock").acquire()


def test_a_lock_is_not_picklable(lock_path: Path) -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(RLock(lock_path))


def test_a_non_positive_check_interval_is_refused(lock_path: Path) -> None:
    with pytest.raises(ValueError, match="check_interval must be positive"):
        RLock(lock_path, check_interval=0)


def test_the_constructor_has_the_seed_signature_and_defaults(lock_path: Path) -> None:
    lock = RLock(lock_path)
    assert (lock.mode, lock.timeout, lock.check_interval, lock.fail_when_locked) == (
        "a",
        5,
        0.25,
        False,
    )
    assert int(lock.flags) == 6


@pytest.mark.slow
def test_another_os_process_cannot_take_a_lock_this_process_holds(lock_path: Path) -> None:
    with RLock(lock_path):
        outcome = children.run_in_child(children.try_lock, str(lock_path), 0.2)
    assert outcome.value == "LockTimeoutError"
    assert children.run_in_child(children.try_lock, str(lock_path), 0.2).value == "acquired"


@pytest.mark.slow
def test_this_process_waits_while_another_os_process_holds_the_lock(lock_path: Path) -> None:
    with children.lock_held_by_child(lock_path) as held:
        with pytest.raises(LockTimeoutError):
            RLock(lock_path, timeout=0.2, check_interval=0.05).acquire()
        with pytest.raises(LockedError):
            RLock(lock_path, fail_when_locked=True).acquire()
        held.release()
        with RLock(lock_path, timeout=children.CHILD_TIMEOUT, check_interval=0.01):
            pass
    assert held.process.exitcode == 0


@pytest.mark.slow
def test_the_kernel_frees_the_lock_when_its_holder_is_killed(lock_path: Path) -> None:
    with children.lock_held_by_child(lock_path) as held:
        with pytest.raises(LockTimeoutError):
            RLock(lock_path, timeout=0).acquire()
        assert held.process.pid is not None
        os.kill(held.process.pid, signal.SIGKILL)
        held.process.join(children.CHILD_TIMEOUT)
        assert held.process.exitcode == -signal.SIGKILL
        with RLock(lock_path, timeout=0) as lock:
            assert lock.is_owned()
