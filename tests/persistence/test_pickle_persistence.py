"""``PicklePersistence``: save, load under lock, retire, and refuse what cannot be trusted."""

from __future__ import annotations

import inspect
import os
import pickle
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from structlog.testing import capture_logs

from actors import Runtime
from actors.test_utils import DummyProcess
from persistence import (
    Checkpoint,
    CheckpointCodec,
    CheckpointCorruptError,
    CheckpointEncodeError,
    CheckpointError,
    CheckpointLoadError,
    CheckpointMissingError,
    CheckpointSignatureError,
    CheckpointWriteError,
    LockedError,
    LockTimeoutError,
    PicklePersistence,
    RLock,
    import_class,
)
from persistence.folders import lock_path_of
from provenance import Int, ProcessState
from tests.persistence import children
from tests.persistence.children import Plain
from tests.persistence.helpers import FailOneFsync, mode_of

PLAIN = Plain.class_path()


class Checkpointing(DummyProcess):
    """Emits an output, then saves its own checkpoint in the middle of running."""

    store: ClassVar[PicklePersistence | None] = None
    instances: ClassVar[list[Checkpointing]] = []

    def run(self) -> None:
        """Emit, checkpoint, and fail when asked to."""
        type(self).instances.append(self)
        self.out("result", Int(42))
        assert self.store is not None
        self.store.save_checkpoint(self)
        if "fail" in self.inputs:
            raise RuntimeError("asked to fail")


class Outer:
    """Holds a nested class, to be found by its qualified name."""

    class Inner:
        """Nested."""


NOT_A_CLASS = 42


@pytest.fixture
def checkpointing(persistence: PicklePersistence) -> Iterator[type[Checkpointing]]:
    """``Checkpointing`` saving into the test's persistence."""
    Checkpointing.store = persistence
    Checkpointing.instances = []
    yield Checkpointing
    Checkpointing.store = None
    Checkpointing.instances = []


@pytest.fixture
def rival(basedir: Path) -> Iterator[PicklePersistence]:
    """A second persistence on the same folders, as another worker would have."""
    store = PicklePersistence.create_from_basedir(basedir, lock_timeout=0.2)
    yield store
    store.release_all()


def save_plain(store: PicklePersistence, pid: int, state: str = "running", **extra: Any) -> Path:
    """Save a checkpoint of a ``Plain`` process; return where it is."""
    return Path(store.save_state(pid, PLAIN, {"state": state, **extra}))


def names(folder: Path) -> list[str]:
    """The names in ``folder``, sorted, folders left out."""
    return sorted(p.name for p in folder.iterdir() if not p.is_dir())


def test_the_constructor_has_the_seed_defaults() -> None:
    parameters = inspect.signature(PicklePersistence).parameters
    assert parameters["running_directory"].default == "/tmp/running"
    assert parameters["finished_directory"].default == "/tmp/running/finished"
    assert parameters["failed_directory"].default == "/tmp/running/failed"


def test_create_from_basedir_makes_private_folders_and_a_private_key(
    basedir: Path, no_umask: None
) -> None:
    store = PicklePersistence.create_from_basedir(basedir)
    assert store.running_directory == basedir / "running"
    assert store.finished_directory == basedir / "finished"
    assert store.failed_directory == basedir / "failed"
    assert store.key_file == basedir / "checkpoint.key"
    for folder in (basedir, basedir / "running", basedir / "finished", basedir / "failed"):
        assert mode_of(folder) == 0o700
    assert mode_of(basedir / "checkpoint.key") == 0o600


def test_the_running_path_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = PicklePersistence.create_from_basedir("relative")
    path = store.get_running_path(12)
    assert path == str(tmp_path / "relative" / "running" / "12.pickle")
    assert os.path.isabs(path)


def test_checkpoint_files_are_private_whatever_the_umask(
    persistence: PicklePersistence, no_umask: None
) -> None:
    path = save_plain(persistence, 3)
    assert mode_of(path) == 0o600


def test_a_process_is_restored_from_the_checkpoint_it_saved_while_running(
    runtime: Runtime, persistence: PicklePersistence, checkpointing: type[Checkpointing]
) -> None:
    _result, node = runtime.run_get_node(checkpointing, a=Int(1))
    path = persistence.get_running_path(node.pk)
    assert os.path.exists(path)

    restored = persistence.create_from_file(path)

    assert isinstance(restored, Checkpointing)
    assert restored.pid == node.pk
    assert restored.node.uuid == node.uuid
    assert restored.state is ProcessState.RUNNING
    assert restored.inputs["a"].value == 1
    assert restored.outputs["result"].value == 42
    assert persistence.held_pids == {node.pk}


def test_a_finished_process_checkpoint_moves_to_finished_and_frees_its_lock(
    runtime: Runtime, persistence: PicklePersistence, checkpointing: type[Checkpointing]
) -> None:
    _result, node = runtime.run_get_node(checkpointing)
    persistence.create_from_file(persistence.get_running_path(node.pk))
    (process,) = checkpointing.instances
    assert process.state is ProcessState.FINISHED

    where = persistence.save_checkpoint(process)

    assert where == str(persistence.finished_directory / f"{node.pk}.pickle")
    assert persistence.codec.read(where).state["state"] == "finished"
    assert names(persistence.running_directory) == []
    assert persistence.held_pids == frozenset()


def test_an_excepted_process_checkpoint_moves_to_failed_with_a_reason(
    runtime: Runtime, persistence: PicklePersistence, checkpointing: type[Checkpointing]
) -> None:
    with pytest.raises(RuntimeError, match="asked to fail"):
        runtime.run(checkpointing, fail=Int(1))
    (process,) = checkpointing.instances
    assert process.state is ProcessState.EXCEPTED

    where = Path(persistence.save_checkpoint(process))

    assert where.parent == persistence.failed_directory
    reason = (persistence.failed_directory / f"{process.pid}.reason.txt").read_text()
    assert "excepted" in reason
    assert names(persistence.running_directory) == []


def test_a_killed_process_checkpoint_moves_to_finished(persistence: PicklePersistence) -> None:
    save_plain(persistence, 5)
    where = save_plain(persistence, 5, state="killed")
    assert where == persistence.finished_directory / "5.pickle"
    assert names(persistence.running_directory) == []


def test_saving_a_process_that_was_not_launched_raises_a_checkpoint_error(
    persistence: PicklePersistence,
) -> None:
    with pytest.raises(CheckpointError, match="DummyProcess: it has no pid yet; launch it first"):
        persistence.save_checkpoint(DummyProcess())


def test_a_loaded_process_stays_locked_until_released(
    persistence: PicklePersistence, rival: PicklePersistence
) -> None:
    path = save_plain(persistence, 3)
    loaded = persistence.create_from_file(path)
    assert isinstance(loaded, Plain)
    assert loaded.state == {"state": "running"}

    with pytest.raises(LockedError, match=r"3\.pickle\.lock is locked"):
        rival.create_from_file(path)
    with pytest.raises(LockedError):
        persistence.create_from_file(path)

    assert persistence.release(3) is True
    assert persistence.release(3) is False
    rival.create_from_file(path)
    assert rival.held_pids == {3}


def test_the_holder_saves_from_any_thread_while_another_worker_times_out(
    persistence: PicklePersistence, rival: PicklePersistence
) -> None:
    path = save_plain(persistence, 3)
    persistence.create_from_file(path)
    errors: list[BaseException] = []

    def save_from_another_thread() -> None:
        try:
            save_plain(persistence, 3, step=2)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=save_from_another_thread)
    thread.start()
    thread.join(10)
    assert errors == []
    assert persistence.codec.read(path).state["step"] == 2

    with pytest.raises(LockTimeoutError, match=r"waited 0\.2 s for the lock on .*3\.pickle\.lock"):
        save_plain(rival, 3, step=3)
    assert persistence.codec.read(path).state["step"] == 2


def test_create_from_file_leaves_a_refused_checkpoint_where_it_is(
    persistence: PicklePersistence,
) -> None:
    path = save_plain(persistence, 3)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointSignatureError):
        persistence.create_from_file(path)
    assert path.exists()
    assert persistence.held_pids == frozenset()
    with RLock(lock_path_of(path), timeout=0):
        pass


def test_create_from_file_of_a_missing_checkpoint_raises_and_leaves_no_lock_file(
    persistence: PicklePersistence,
) -> None:
    path = persistence.get_running_path(404)
    with pytest.raises(CheckpointMissingError, match=r"no checkpoint at .*404\.pickle"):
        persistence.create_from_file(path)
    with pytest.raises(FileNotFoundError):
        persistence.create_from_file(path)
    assert names(persistence.running_directory) == []


def test_load_all_processes_loads_the_good_skips_the_locked_and_refuses_the_bad(
    persistence: PicklePersistence, rival: PicklePersistence, tmp_path: Path
) -> None:
    running = persistence.running_directory
    for pid in (1, 2, 3, 4, 5):
        save_plain(persistence, pid)
    rival.create_from_file(running / "3.pickle")
    tampered = bytearray((running / "4.pickle").read_bytes())
    tampered[-5] ^= 0x10
    (running / "4.pickle").write_bytes(bytes(tampered))
    (running / "5.pickle").write_bytes((running / "5.pickle").read_bytes()[:30])
    (running / "6.pickle").write_bytes(pickle.dumps({"state": "running"}))
    marker = tmp_path / "pwned"
    (running / "7.pickle").write_bytes(pickle.dumps(ForgedExploit(marker)))
    persistence.save_state(8, "no_such_module.Thing", {"state": "running"})
    (running / "notes.pickle").write_bytes(b"not a checkpoint")
    reported: list[tuple[int, str]] = []
    persistence.on_unreadable = lambda pid, reason: reported.append((pid, reason))

    with capture_logs() as logs:
        loaded = persistence.load_all_processes()

    assert [process.state for process in loaded] == [{"state": "running"}] * 2
    assert persistence.held_pids == {1, 2}
    assert names(running) == ["1.pickle", "1.pickle.lock", "2.pickle", "2.pickle.lock",
                              "3.pickle", "3.pickle.lock"]  # fmt: skip
    refused = ["4", "5", "6", "7", "8", "notes"]
    assert names(persistence.failed_directory) == sorted(
        [f"{stem}.pickle" for stem in refused] + [f"{stem}.reason.txt" for stem in refused]
    )
    reasons = dict(reported)
    assert sorted(reasons) == [4, 5, 6, 7, 8]
    assert "failed its signature check" in reasons[4]
    assert "truncated" in reasons[5]
    assert "not a workactors checkpoint" in reasons[6]
    assert "not a workactors checkpoint" in reasons[7]
    assert "no_such_module.Thing cannot be imported" in reasons[8]
    reason_file = persistence.failed_directory / "4.reason.txt"
    assert reason_file.read_text().strip() == reasons[4]
    refusals = [entry for entry in logs if entry["event"] == "persistence.checkpoint_refused"]
    assert sorted(entry["path"] for entry in refusals) == sorted(
        str(running / f"{stem}.pickle") for stem in refused
    )
    assert all(entry["log_level"] == "warning" and entry["reason"] for entry in refusals)
    assert not marker.exists()


class ForgedExploit:
    """A pickle that would run a shell command when loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def test_a_process_launched_here_can_be_held_so_no_other_worker_loads_it(
    persistence: PicklePersistence, rival: PicklePersistence
) -> None:
    save_plain(persistence, 1)
    persistence.hold(1)
    with pytest.raises(LockedError):
        persistence.hold(1)
    with pytest.raises(LockTimeoutError, match=r"waited 0\.2 s for the lock"):
        rival.hold(1)  # it waits a moment (an orphan-lock sweep holds it that long at most)
    assert rival.load_all_processes() == []
    save_plain(persistence, 1, step=2)  # the holder saves, re-entering its lock
    assert save_plain(persistence, 1, state="finished").parent == persistence.finished_directory
    assert persistence.held_pids == frozenset()
    assert names(persistence.running_directory) == []


def test_a_terminal_checkpoint_a_crash_left_in_running_is_retired_not_loaded(
    persistence: PicklePersistence,
) -> None:
    # What a worker killed between writing the terminal checkpoint and moving it leaves.
    running = persistence.running_directory
    for pid, state in ((1, "finished"), (2, "excepted"), (3, "running")):
        data = persistence.codec.encode(Checkpoint(pid, PLAIN, {"state": state}))
        (running / f"{pid}.pickle").write_bytes(data)
    loaded = persistence.load_all_processes()
    assert [process.state for process in loaded] == [{"state": "running"}]
    assert names(persistence.finished_directory) == ["1.pickle"]
    assert names(persistence.failed_directory) == ["2.pickle", "2.reason.txt"]
    assert names(running) == ["3.pickle", "3.pickle.lock"]


def test_a_lock_file_whose_checkpoint_is_gone_is_removed_unless_someone_holds_it(
    persistence: PicklePersistence,
) -> None:
    running = persistence.running_directory
    (running / "1.pickle.lock").touch()
    held = RLock(running / "2.pickle.lock")
    with held:
        persistence.load_all_processes()
        assert names(running) == ["2.pickle.lock"]


def test_load_all_processes_does_not_load_what_it_already_holds(
    persistence: PicklePersistence,
) -> None:
    save_plain(persistence, 1)
    assert len(persistence.load_all_processes()) == 1
    assert persistence.load_all_processes() == []
    save_plain(persistence, 2)
    assert [process.state for process in persistence.load_all_processes()] == [{"state": "running"}]
    assert persistence.held_pids == {1, 2}


def test_an_on_unreadable_hook_that_fails_is_logged_and_the_scan_goes_on(
    persistence: PicklePersistence,
) -> None:
    (persistence.running_directory / "1.pickle").write_bytes(b"junk")
    save_plain(persistence, 2)

    def broken(pid: int, reason: str) -> None:
        raise RuntimeError("the database is gone")

    persistence.on_unreadable = broken
    with capture_logs() as logs:
        loaded = persistence.load_all_processes()
    assert len(loaded) == 1
    assert any(entry["event"] == "persistence.on_unreadable_failed" for entry in logs)


def test_a_stale_temporary_file_of_a_dead_writer_is_removed_on_load(
    persistence: PicklePersistence,
) -> None:
    save_plain(persistence, 1)
    stale = persistence.running_directory / ".1.pickle.x1y2z3.tmp"
    stale.write_bytes(b"half a checkpoint")
    persistence.load_all_processes()
    assert not stale.exists()


def test_a_checkpoint_renamed_to_another_pid_is_refused(persistence: PicklePersistence) -> None:
    shutil.copy(save_plain(persistence, 1), persistence.running_directory / "9.pickle")
    with pytest.raises(CheckpointCorruptError, match="named for process 9 but holds process 1"):
        persistence.create_from_file(persistence.get_running_path(9))


def test_a_checkpoint_whose_nodes_are_not_in_the_database_is_refused(
    runtime: Runtime, persistence: PicklePersistence
) -> None:
    state = {
        "class_name": DummyProcess.class_path(),
        "pid": 77,
        "node_uuid": "00000000-0000-0000-0000-000000000000",
        "inputs": {},
        "outputs": {},
        "state": "running",
    }
    persistence.save_state(77, DummyProcess.class_path(), state)
    assert persistence.load_all_processes() == []
    reason = (persistence.failed_directory / "77.reason.txt").read_text()
    assert "not in the provenance database" in reason


def test_mark_finished_and_mark_failed_retire_the_checkpoint_and_release_it(
    persistence: PicklePersistence,
) -> None:
    for pid in (1, 2):
        persistence.create_from_file(save_plain(persistence, pid))
    assert persistence.mark_finished(1) == str(persistence.finished_directory / "1.pickle")
    assert persistence.mark_failed(2, "worker gave up") == str(
        persistence.failed_directory / "2.pickle"
    )
    assert (persistence.failed_directory / "2.reason.txt").read_text() == "worker gave up\n"
    assert persistence.held_pids == frozenset()
    assert names(persistence.running_directory) == []
    with pytest.raises(CheckpointMissingError, match="no running checkpoint of process 1"):
        persistence.mark_finished(1)
    with pytest.raises(CheckpointMissingError):
        persistence.mark_failed(3, "never saved")


def test_release_all_lets_another_worker_load_everything(
    persistence: PicklePersistence, rival: PicklePersistence
) -> None:
    for pid in (1, 2, 3):
        save_plain(persistence, pid)
    assert len(persistence.load_all_processes()) == 3
    assert rival.load_all_processes() == []
    persistence.release_all()
    assert len(rival.load_all_processes()) == 3


def test_a_persistence_is_not_picklable(persistence: PicklePersistence) -> None:
    with pytest.raises(TypeError, match="holds file locks"):
        pickle.dumps(persistence)


def test_a_pid_must_be_an_int(persistence: PicklePersistence) -> None:
    with pytest.raises(TypeError, match="a pid is an int"):
        persistence.get_running_path("7")  # type: ignore[arg-type]


def test_import_class_finds_module_level_and_nested_classes() -> None:
    assert import_class(PLAIN) is Plain
    assert import_class(f"{__name__}.Outer.Inner") is Outer.Inner


@pytest.mark.parametrize(
    ("class_path", "message"),
    [
        ("no_such_module.Thing", "no module of that name"),
        (f"{__name__}.Missing", "Only classes defined at module level"),
        (f"{__name__}.NOT_A_CLASS", "is not a class"),
        ("tests.persistence.children.Plain.<locals>.X", "Only classes defined at module level"),
    ],
)
def test_import_class_refuses_what_is_not_an_importable_class(
    class_path: str, message: str
) -> None:
    with pytest.raises(CheckpointLoadError, match=message):
        import_class(class_path)


@pytest.mark.slow
def test_load_all_processes_skips_a_checkpoint_another_os_process_holds(
    persistence: PicklePersistence,
) -> None:
    for pid in (1, 2):
        save_plain(persistence, pid)
    with children.lock_held_by_child(lock_path_of(persistence.get_running_path(1))) as held:
        loaded = persistence.load_all_processes()
        assert persistence.held_pids == {2}
        os.kill(held.process.pid or 0, signal.SIGKILL)
        held.process.join(children.CHILD_TIMEOUT)
    assert len(loaded) == 1
    # Its holder died: the checkpoint is free for the next scan.
    assert len(persistence.load_all_processes()) == 1
    assert persistence.held_pids == {1, 2}


@pytest.mark.slow
def test_a_pid_offered_to_several_os_processes_at_once_is_loaded_by_exactly_one(
    persistence: PicklePersistence, basedir: Path
) -> None:
    path = save_plain(persistence, 1)
    start, finish = children.CONTEXT.Event(), children.CONTEXT.Event()
    results = children.CONTEXT.Queue()
    workers = [
        children.start_child(
            children.race_for_checkpoint, str(basedir), str(path), start, finish, results
        )
        for _ in range(4)
    ]
    try:
        start.set()
        outcomes = sorted(results.get(timeout=children.CHILD_TIMEOUT) for _ in workers)
    finally:
        finish.set()
        for worker in workers:
            worker.join(children.CHILD_TIMEOUT)
    assert outcomes == ["loaded", "locked", "locked", "locked"]
    assert [worker.exitcode for worker in workers] == [0] * 4


@pytest.mark.slow
def test_a_full_disk_keeps_the_previous_checkpoint_and_the_worker_goes_on(
    persistence: PicklePersistence, basedir: Path
) -> None:
    save_plain(persistence, 1, step=1)

    outcome = children.run_in_child(children.save_beyond_file_size_limit, str(basedir), 64 * 1024)

    assert outcome.kind == "returned"
    assert "could not write" in outcome.value
    assert "1.pickle: File too large [EFBIG]; the previous file there is intact" in outcome.value
    restored = persistence.create_from_file(persistence.get_running_path(1))
    assert restored.state == {"state": "running", "step": 1}
    assert persistence.codec.read(persistence.get_running_path(2)).pid == 2
    assert names(persistence.running_directory) == [
        "1.pickle",
        "1.pickle.lock",
        "2.pickle",
        "2.pickle.lock",
    ]


def test_a_group_of_checkpoints_is_saved_with_each_outcome_in_order(
    persistence: PicklePersistence,
) -> None:
    save_plain(persistence, 3)  # an earlier checkpoint, replaced below
    outcomes = persistence.save_states(
        [
            (1, PLAIN, {"state": "running", "n": 1}),
            (2, PLAIN, {"state": "finished"}),
            (3, PLAIN, {"state": "waiting", "n": 3}),
            (4, PLAIN, {"state": "running", "bad": threading.Lock()}),
        ]
    )
    assert outcomes[0] == persistence.get_running_path(1)
    assert outcomes[1] == str(persistence.finished_directory / "2.pickle")
    assert outcomes[2] == persistence.get_running_path(3)
    assert isinstance(outcomes[3], CheckpointEncodeError)
    read = CheckpointCodec.from_key_file(persistence.key_file).read
    assert read(persistence.get_running_path(3)).state["n"] == 3
    assert not persistence.has_checkpoint(2)
    assert not persistence.has_checkpoint(4)


def test_the_processes_that_end_in_one_group_all_retire_with_their_reasons(
    persistence: PicklePersistence,
) -> None:
    outcomes = persistence.save_states(
        [
            (1, PLAIN, {"state": "finished"}),
            (2, PLAIN, {"state": "excepted"}),
            (3, PLAIN, {"state": "running"}),
            (4, PLAIN, {"state": "killed"}),
        ]
    )
    assert outcomes == [
        str(persistence.finished_directory / "1.pickle"),
        str(persistence.failed_directory / "2.pickle"),
        persistence.get_running_path(3),
        str(persistence.finished_directory / "4.pickle"),
    ]
    assert names(persistence.running_directory) == ["3.pickle", "3.pickle.lock"]
    assert names(persistence.finished_directory) == ["1.pickle", "4.pickle"]
    assert (persistence.failed_directory / "2.reason.txt").read_text() == (
        "process 2 excepted; its traceback is on its process node\n"
    )


def test_new_checkpoints_of_which_one_fails_to_write_leave_none_behind(tmp_path: Path) -> None:
    fail = FailOneFsync()
    persistence = PicklePersistence.create_from_basedir(tmp_path, write_hook=fail)
    with pytest.raises(CheckpointWriteError, match="No space left"):
        persistence.save_new_states([(pid, PLAIN, {"state": "created"}) for pid in (1, 2, 3)])
    assert len(fail.failed) == 1
    assert [name for name in names(persistence.running_directory) if "lock" not in name] == []
    assert persistence.load_all_processes() == []
