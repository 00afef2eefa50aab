"""The persistence actor: the single writer; a pid's waiting checkpoints make one write."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pykka
import pytest
from structlog.testing import capture_logs

from persistence import (
    CheckpointEncodeError,
    CheckpointMissingError,
    MarkFailed,
    PersistenceActor,
    PicklePersistence,
    Release,
    SaveCheckpoint,
    Sync,
    WriteStage,
)
from tests.persistence.children import Plain

WAIT = 10.0
PLAIN = Plain.class_path()


class Gate:
    """A write hook that counts writes and can hold the first one until it is opened."""

    def __init__(self, *, closed: bool) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()
        if not closed:
            self.opened.set()
        self.writes: list[Path] = []

    def __call__(self, stage: WriteStage, path: Path) -> None:
        if stage == WriteStage.TEMP_WRITTEN and not self.entered.is_set():
            self.entered.set()
            assert self.opened.wait(WAIT), "the test never opened the gate"
        if stage == WriteStage.REPLACED and path.name.endswith(".pickle"):
            self.writes.append(path)


@pytest.fixture
def gate() -> Gate:
    """A write hook that lets every write through."""
    return Gate(closed=False)


@pytest.fixture
def store(basedir: Path, gate: Gate) -> Iterator[PicklePersistence]:
    """A persistence whose writes pass the gate."""
    persistence = PicklePersistence.create_from_basedir(basedir, write_hook=gate)
    yield persistence
    persistence.release_all()


@pytest.fixture
def actor(store: PicklePersistence) -> Iterator[pykka.ActorRef[PersistenceActor]]:
    """A running persistence actor, stopped after the test."""
    ref = PersistenceActor.start(store)
    yield ref
    if ref.is_alive():
        ref.stop(block=True, timeout=WAIT)


def save(actor: pykka.ActorRef[PersistenceActor], pid: int, **state: Any) -> Future[str]:
    """Tell the actor to save a ``Plain`` checkpoint; the future resolves once it is written."""
    reply: Future[str] = Future()
    actor.tell(SaveCheckpoint(pid, PLAIN, {"state": "running", **state}, reply))
    return reply


def sync(actor: pykka.ActorRef[PersistenceActor]) -> None:
    """Wait until everything sent before is written."""
    done: Future[None] = Future()
    actor.tell(Sync(done))
    done.result(WAIT)


def test_a_saved_checkpoint_is_written_and_its_path_replied(
    actor: pykka.ActorRef[PersistenceActor], store: PicklePersistence
) -> None:
    path = save(actor, 3, step=1).result(WAIT)
    assert path == store.get_running_path(3)
    assert store.codec.read(path).state == {"state": "running", "step": 1}


def test_checkpoints_of_one_pid_waiting_in_the_mailbox_are_written_once(
    basedir: Path,
) -> None:
    gate = Gate(closed=True)
    persistence = PicklePersistence.create_from_basedir(basedir, write_hook=gate)
    actor = PersistenceActor.start(persistence)
    try:
        first = save(actor, 1, step=0)
        assert gate.entered.wait(WAIT)  # the actor's thread is inside the first write
        waiting = [save(actor, 2, step=step) for step in range(1, 6)]
        gate.opened.set()
        first.result(WAIT)
        paths = {future.result(WAIT) for future in waiting}
    finally:
        actor.stop(block=True, timeout=WAIT)

    assert paths == {persistence.get_running_path(2)}
    assert [path.name for path in gate.writes] == ["1.pickle", "2.pickle"]
    assert persistence.codec.read(persistence.get_running_path(2)).state["step"] == 5


def test_the_error_of_one_write_goes_only_to_its_own_replies(
    actor: pykka.ActorRef[PersistenceActor], store: PicklePersistence
) -> None:
    bad = save(actor, 1, lock=threading.Lock())
    good = save(actor, 2, step=1)
    with pytest.raises(CheckpointEncodeError, match=r"process 1 .*not picklable"):
        bad.result(WAIT)
    assert good.result(WAIT) == store.get_running_path(2)
    # The actor goes on serving.
    assert save(actor, 1, step=2).result(WAIT) == store.get_running_path(1)


def test_a_failed_write_nobody_waits_for_is_logged(
    actor: pykka.ActorRef[PersistenceActor],
) -> None:
    with capture_logs() as logs:
        actor.tell(SaveCheckpoint(1, PLAIN, {"lock": threading.Lock()}))
        sync(actor)
    (entry,) = [entry for entry in logs if entry["event"] == "persistence.action_failed"]
    assert entry["pid"] == 1
    assert entry["action"] == "save"
    assert "not picklable" in entry["error"]


def test_a_terminal_checkpoint_is_retired_by_the_actor(
    actor: pykka.ActorRef[PersistenceActor], store: PicklePersistence
) -> None:
    save(actor, 4)
    assert save(actor, 4, state="finished").result(WAIT) == str(
        store.finished_directory / "4.pickle"
    )
    assert not Path(store.get_running_path(4)).exists()


def test_release_and_mark_failed_act_after_the_pending_writes(
    actor: pykka.ActorRef[PersistenceActor], store: PicklePersistence
) -> None:
    store.create_from_file(save(actor, 5).result(WAIT))
    assert store.held_pids == {5}
    save(actor, 5, step=2)
    released: Future[bool] = Future()
    actor.tell(Release(5, released))
    assert released.result(WAIT) is True
    assert store.codec.read(store.get_running_path(5)).state["step"] == 2
    assert store.held_pids == frozenset()

    failed: Future[str] = Future()
    actor.tell(MarkFailed(5, "the worker gave up", failed))
    assert failed.result(WAIT) == str(store.failed_directory / "5.pickle")
    again: Future[str] = Future()
    actor.tell(MarkFailed(5, "twice", again))
    with pytest.raises(CheckpointMissingError):
        again.result(WAIT)


def test_an_unknown_message_is_logged_not_dropped_silently(
    actor: pykka.ActorRef[PersistenceActor],
) -> None:
    with capture_logs() as logs:
        actor.tell("hello")
        sync(actor)
    assert any(
        entry["event"] == "persistence.unknown_message" and "hello" in entry["message"]
        for entry in logs
    )


def test_checkpoints_pending_when_the_actor_stops_are_written(
    actor: pykka.ActorRef[PersistenceActor], store: PicklePersistence
) -> None:
    replies = [save(actor, 6, step=step) for step in range(3)]
    actor.stop(block=True, timeout=WAIT)
    assert all(reply.result(WAIT) == store.get_running_path(6) for reply in replies)
    assert store.codec.read(store.get_running_path(6)).state["step"] == 2
