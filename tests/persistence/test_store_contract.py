"""The ``CheckpointStore`` contract, checked alike on the file store, the in-memory store and
the PostgreSQL store (real server, a schema of its own).

Two stores on the same checkpoints stand for two workers: what one holds the other never loads.
"""

from __future__ import annotations

import pickle
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from persistence import (
    Action,
    Checkpoint,
    CheckpointEncodeError,
    CheckpointMissingError,
    CheckpointStore,
    InMemoryStore,
    Intent,
    LockedError,
    LockTimeoutError,
    MemoryCheckpoints,
    PicklePersistence,
)
from persistence.memory_store import StoredCheckpoint
from persistence.postgres_store import PostgresStore
from provenance import ProcessState


class Recorded:
    """Stands for a process: restored from the state it saved; a ``broken`` state fails."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state

    @classmethod
    def load_instance_state(cls, state: dict[str, Any]) -> Recorded:
        if state.get("broken"):
            raise ValueError("this class changed since the checkpoint was written")
        return cls(state)


PATH = f"{Recorded.__module__}.Recorded"
RUNNING = {"state": ProcessState.RUNNING.value, "step": 1}

StoreFactory = Callable[[], CheckpointStore]


@pytest.fixture(params=["files", "memory", "postgresql"])
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Makes stores that share one set of checkpoints, each a separate holder."""
    made: list[CheckpointStore] = []
    shared = MemoryCheckpoints()
    key = secrets.token_bytes(32)
    url = request.getfixturevalue("shared_database") if request.param == "postgresql" else ""

    def make() -> CheckpointStore:
        store: CheckpointStore
        if request.param == "files":
            store = PicklePersistence.create_from_basedir(tmp_path / "cp", lock_timeout=0.2)
        elif request.param == "memory":
            store = InMemoryStore(shared, lock_timeout=0.2)
        else:
            store = PostgresStore(url, key, lock_timeout=0.2)
        made.append(store)
        return store

    yield make
    for store in made:
        store.release_all()
        if isinstance(store, PostgresStore):
            store.close()


def test_a_saved_checkpoint_is_taken_over_with_its_state(new_store: StoreFactory) -> None:
    store = new_store()
    store.save_state(7, PATH, {**RUNNING, "value": [1, 2]})
    assert store.has_checkpoint(7)
    process = store.take_over(7)
    assert isinstance(process, Recorded)
    assert process.state["value"] == [1, 2]


def test_a_checkpoint_is_a_snapshot_later_changes_do_not_reach(new_store: StoreFactory) -> None:
    store = new_store()
    state: dict[str, Any] = {**RUNNING, "value": [1]}
    store.save_state(7, PATH, state)
    state["value"].append(2)
    assert store.take_over(7).state["value"] == [1]


def test_what_one_store_holds_another_neither_loads_nor_takes_over(
    new_store: StoreFactory,
) -> None:
    worker, rival = new_store(), new_store()
    worker.hold(3)
    worker.save_state(3, PATH, RUNNING)
    rival.save_state(4, PATH, RUNNING)  # a submission nobody holds
    assert [process.state["step"] for process in rival.load_all_processes()] == [1]
    with pytest.raises(LockedError):
        rival.take_over(3)
    with pytest.raises(LockTimeoutError):
        rival.hold(3)
    assert worker.release(3)
    assert not worker.release(3)
    assert isinstance(rival.take_over(3), Recorded)


def test_a_store_does_not_hold_the_same_pid_twice(new_store: StoreFactory) -> None:
    store = new_store()
    store.hold(5)
    with pytest.raises(LockedError):
        store.hold(5)


def test_release_all_hands_everything_to_another_holder(new_store: StoreFactory) -> None:
    worker, rival = new_store(), new_store()
    for pid in (1, 2, 3):
        worker.save_state(pid, PATH, RUNNING)
    assert len(worker.load_all_processes()) == 3
    assert rival.load_all_processes() == []
    worker.release_all()
    assert len(rival.load_all_processes()) == 3


@pytest.mark.parametrize("end", [ProcessState.FINISHED, ProcessState.KILLED, ProcessState.EXCEPTED])
def test_a_terminal_state_retires_the_checkpoint_and_ends_the_hold(
    new_store: StoreFactory, end: ProcessState
) -> None:
    worker, rival = new_store(), new_store()
    worker.hold(9)
    worker.save_state(9, PATH, RUNNING)
    where = worker.save_state(9, PATH, {"state": end.value})
    assert ("failed" in where) is (end is ProcessState.EXCEPTED)
    assert not worker.has_checkpoint(9)
    with pytest.raises(CheckpointMissingError):
        rival.take_over(9)
    rival.hold(9)  # nobody holds it any more


def test_mark_finished_and_failed_retire_a_running_checkpoint(new_store: StoreFactory) -> None:
    store = new_store()
    store.save_state(1, PATH, RUNNING)
    store.save_state(2, PATH, RUNNING)
    assert "finished" in store.mark_finished(1)
    assert "failed" in store.mark_failed(2, "its class is gone")
    assert not store.has_checkpoint(1)
    assert not store.has_checkpoint(2)
    with pytest.raises(CheckpointMissingError):
        store.mark_finished(1)


def test_a_terminal_checkpoint_left_by_a_crash_is_retired_not_loaded(
    new_store: StoreFactory,
) -> None:
    store = new_store()
    store.save_state(1, PATH, RUNNING)
    store.save_state(2, PATH, RUNNING)
    crashed = new_store()
    crashed.take_over(2)
    # A crash between the end and the retirement: the writer dies holding a terminal state.
    ended = {"state": ProcessState.FINISHED.value}
    if isinstance(crashed, InMemoryStore):
        crashed.shared.running[2] = StoredCheckpoint(PATH, pickle.dumps(ended))
    elif isinstance(crashed, PostgresStore):
        crashed.save_state(2, PATH, {**RUNNING, "step": 2})
        data = crashed.codec.encode(Checkpoint(2, PATH, ended))
        with crashed.connection() as connection:
            connection.execute("UPDATE wa_checkpoint SET data = %s WHERE pid = 2", (data,))
    else:
        assert isinstance(crashed, PicklePersistence)
        data = crashed.codec.encode(Checkpoint(2, PATH, ended))
        crashed.folders.running_path(2).write_bytes(data)
    crashed.release_all()
    loaded = new_store().load_all_processes()
    assert [process.state["step"] for process in loaded] == [1]
    assert not store.has_checkpoint(2)


def test_a_checkpoint_that_cannot_be_restored_is_refused_and_reported(
    new_store: StoreFactory,
) -> None:
    refused: list[tuple[int, str]] = []
    store = new_store()
    store.on_unreadable = lambda pid, reason: refused.append((pid, reason))
    store.save_state(1, PATH, {**RUNNING, "broken": True})
    store.save_state(2, PATH, RUNNING)
    assert [process.state["step"] for process in store.load_all_processes()] == [1]
    assert [pid for pid, _reason in refused] == [1]
    assert "this class changed" in refused[0][1]
    assert not store.has_checkpoint(1)


def test_an_unpicklable_state_is_refused_and_the_previous_checkpoint_stays(
    new_store: StoreFactory,
) -> None:
    store = new_store()
    store.save_state(1, PATH, {**RUNNING, "value": "kept"})
    with pytest.raises(CheckpointEncodeError):
        store.save_state(1, PATH, {**RUNNING, "value": lambda: None})
    assert store.take_over(1).state["value"] == "kept"


def test_the_last_intent_recorded_is_taken_once(new_store: StoreFactory) -> None:
    store, other = new_store(), new_store()
    assert store.take_intent(4) is None
    store.record_intent(4, Intent(Action.PAUSE))
    store.record_intent(4, Intent(Action.KILL, "enough"))
    assert other.take_intent(4) == Intent(Action.KILL, "enough")
    assert store.take_intent(4) is None


def test_a_group_of_checkpoints_is_saved_each_with_its_own_outcome(
    new_store: StoreFactory,
) -> None:
    worker, rival = new_store(), new_store()
    for pid in (1, 2, 3):
        worker.hold(pid)
    worker.save_state(3, PATH, {**RUNNING, "value": "kept"})
    outcomes = worker.save_states(
        [
            (1, PATH, {**RUNNING, "step": 11}),
            (2, PATH, {"state": ProcessState.FINISHED.value}),
            (3, PATH, {**RUNNING, "value": lambda: None}),
            (4, PATH, {**RUNNING, "step": 44}),  # not held: written as a submission
        ]
    )
    assert all(isinstance(outcome, str) for i, outcome in enumerate(outcomes) if i != 2)
    assert isinstance(outcomes[2], CheckpointEncodeError)
    assert not worker.has_checkpoint(2)
    worker.release_all()
    assert rival.take_over(1).state["step"] == 11
    assert rival.take_over(3).state["value"] == "kept"
    assert rival.take_over(4).state["step"] == 44


def test_new_checkpoints_are_saved_together_and_each_is_adoptable_once(
    new_store: StoreFactory,
) -> None:
    submitter, worker, rival = new_store(), new_store(), new_store()
    places = submitter.save_new_states([(pid, PATH, {**RUNNING, "step": pid}) for pid in (1, 2, 3)])
    assert len(places) == 3
    assert all(submitter.has_checkpoint(pid) for pid in (1, 2, 3))
    assert sorted(process.state["step"] for process in worker.load_all_processes()) == [1, 2, 3]
    assert rival.load_all_processes() == []


def test_new_checkpoints_with_an_unpicklable_state_are_none_of_them_saved(
    new_store: StoreFactory,
) -> None:
    store = new_store()
    with pytest.raises(CheckpointEncodeError):
        store.save_new_states([(1, PATH, RUNNING), (2, PATH, {**RUNNING, "value": lambda: None})])
    assert not store.has_checkpoint(1)
    assert not store.has_checkpoint(2)


def test_new_checkpoints_of_which_another_holds_one_are_none_of_them_saved(
    new_store: StoreFactory,
) -> None:
    holder, submitter = new_store(), new_store()
    holder.hold(2)
    with pytest.raises(LockTimeoutError):
        submitter.save_new_states([(1, PATH, RUNNING), (2, PATH, RUNNING), (3, PATH, RUNNING)])
    assert not submitter.has_checkpoint(1)
    assert not submitter.has_checkpoint(3)
    holder.release(2)
    assert submitter.load_all_processes() == []
