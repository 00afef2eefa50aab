"""Atomic writes and moves: the file is the old one or the new one, never torn."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from persistence import (
    Checkpoint,
    CheckpointCodec,
    CheckpointWriteError,
    PersistenceError,
    WriteStage,
    atomic,
    atomic_move,
    atomic_write,
)
from persistence.atomic import atomic_move_many, atomic_write_many, make_private_directory
from tests.persistence import children
from tests.persistence.helpers import mode_of


@pytest.fixture
def target(tmp_path: Path) -> Path:
    """A file that holds the old content."""
    path = tmp_path / "7.pickle"
    path.write_bytes(b"old content")
    return path


def test_a_write_replaces_the_file_and_leaves_no_temporary_file(target: Path) -> None:
    atomic_write(target, b"new content")
    assert target.read_bytes() == b"new content"
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_a_written_file_is_private_whatever_the_umask(target: Path, no_umask: None) -> None:
    target.chmod(0o644)
    atomic_write(target, b"new content")
    assert mode_of(target) == 0o600


def test_the_hook_sees_every_stage_in_order(target: Path) -> None:
    seen: list[tuple[WriteStage, Path, bytes]] = []
    atomic_write(
        target, b"new", hook=lambda stage, path: seen.append((stage, path, path.read_bytes()))
    )
    assert [stage for stage, _path, _content in seen] == list(WriteStage)
    assert {path for _stage, path, _content in seen} == {target}
    # Before the rename the target still holds the old content; after, the new.
    assert [content for _stage, _path, content in seen] == [b"old content"] * 2 + [b"new"] * 2


@pytest.mark.parametrize("stage", [WriteStage.TEMP_WRITTEN, WriteStage.FSYNCED])
def test_an_error_before_the_rename_leaves_the_old_file_and_no_temporary_file(
    target: Path, stage: WriteStage
) -> None:
    def fail(done: WriteStage, _path: Path) -> None:
        if done == stage:
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        atomic_write(target, b"new content", hook=fail)
    assert target.read_bytes() == b"old content"
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_a_write_into_a_missing_folder_raises_a_clear_write_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointWriteError, match=r"could not write .*missing/7\.pickle.*ENOENT"):
        atomic_write(tmp_path / "missing" / "7.pickle", b"data")


def test_a_move_replaces_the_destination(target: Path, tmp_path: Path) -> None:
    finished = tmp_path / "finished"
    finished.mkdir()
    (finished / target.name).write_bytes(b"stale")
    atomic_move(target, finished / target.name)
    assert (finished / target.name).read_bytes() == b"old content"
    assert not target.exists()


def test_a_move_to_another_file_system_copies_then_removes(target: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == target.parent.stat().st_dev:
        pytest.skip("needs /dev/shm on a file system of its own")
    destination = shm / f"workactors-test-{os.getpid()}-{target.name}"
    try:
        atomic_move(target, destination)
        assert destination.read_bytes() == b"old content"
        assert not target.exists()
    finally:
        destination.unlink(missing_ok=True)


def test_a_failed_move_leaves_the_source_in_place(target: Path, tmp_path: Path) -> None:
    with pytest.raises(CheckpointWriteError, match="the file is still at"):
        atomic_move(target, tmp_path / "missing" / target.name)
    assert target.read_bytes() == b"old content"


def test_private_folders_are_created_0700_with_their_parents_whatever_the_umask(
    tmp_path: Path, no_umask: None
) -> None:
    made = make_private_directory(tmp_path / "a" / "b")
    assert made == tmp_path / "a" / "b"
    assert mode_of(tmp_path / "a") == 0o700
    assert mode_of(tmp_path / "a" / "b") == 0o700


def test_a_file_in_the_place_of_a_folder_is_refused(target: Path) -> None:
    with pytest.raises(PersistenceError, match="is not a folder"):
        make_private_directory(target)


def test_a_folder_that_belongs_to_another_user_is_refused(tmp_path: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("only root can give a folder to another user")
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chown(theirs, 4242, 4242)
    with pytest.raises(PersistenceError, match="belongs to user id 4242"):
        make_private_directory(theirs)


@pytest.mark.slow
@pytest.mark.parametrize("stage", list(WriteStage))
def test_a_process_killed_after_any_stage_leaves_the_old_or_the_new_checkpoint(
    tmp_path: Path, stage: WriteStage
) -> None:
    codec = CheckpointCodec.from_key_file(tmp_path / "checkpoint.key")
    target = tmp_path / "7.pickle"
    old = codec.encode(Checkpoint(7, "a.B", {"step": 1, "blob": b"o" * 100_000}))
    new = codec.encode(Checkpoint(7, "a.B", {"step": 2, "blob": b"n" * 100_000}))
    atomic_write(target, old)

    outcome = children.run_in_child(children.kill_at_stage, str(target), new, stage.value)

    assert outcome.kind == "died"
    assert outcome.exitcode == -signal.SIGKILL
    before_rename = stage in {WriteStage.TEMP_WRITTEN, WriteStage.FSYNCED}
    assert target.read_bytes() == (old if before_rename else new)
    assert codec.read(target).state["step"] == (1 if before_rename else 2)


@pytest.mark.slow
def test_a_full_disk_during_a_write_leaves_the_old_checkpoint_and_says_so(
    tmp_path: Path,
) -> None:
    target = tmp_path / "7.pickle"
    target.write_bytes(b"old checkpoint")

    outcome = children.run_in_child(
        children.write_beyond_file_size_limit, str(target), b"x" * 1_000_000, 64 * 1024
    )

    assert outcome.kind == "raised"
    assert outcome.value.startswith("CheckpointWriteError: could not write")
    assert "File too large [EFBIG]" in outcome.value
    assert "previous file there is intact" in outcome.value
    assert target.read_bytes() == b"old checkpoint"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_a_group_write_replaces_every_file_and_syncs_each_folder_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = make_private_directory(tmp_path / "other")
    targets = [tmp_path / f"{n}.pickle" for n in range(5)] + [other / "9.pickle"]
    targets[0].write_bytes(b"old")
    synced: list[Path] = []
    real = atomic.fsync_directory
    monkeypatch.setattr(atomic, "fsync_directory", lambda f: (synced.append(Path(f)), real(f)))
    errors = atomic_write_many([(t, f"new {t.name}".encode()) for t in targets])
    assert errors == [None] * len(targets)
    assert [t.read_bytes() for t in targets] == [f"new {t.name}".encode() for t in targets]
    assert sorted(synced) == sorted([tmp_path, other])
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_group_write_reports_each_failure_and_writes_the_rest(tmp_path: Path) -> None:
    good, missing = tmp_path / "1.pickle", tmp_path / "nowhere" / "2.pickle"
    errors = atomic_write_many([(missing, b"lost"), (good, b"kept")])
    assert isinstance(errors[0], CheckpointWriteError)
    assert "could not write" in str(errors[0])
    assert errors[1] is None
    assert good.read_bytes() == b"kept"


def test_in_a_group_write_each_file_passes_every_stage_and_is_durable_only_at_the_end(
    tmp_path: Path,
) -> None:
    targets = [tmp_path / f"{n}.pickle" for n in range(3)]
    seen: list[tuple[WriteStage, Path]] = []
    atomic_write_many([(t, b"x") for t in targets], hook=lambda s, p: seen.append((s, p)))
    for target in targets:
        assert [s for s, p in seen if p == target] == list(WriteStage)
    # No file is reported durable before every file is in place and the folder synced.
    last_replaced = max(i for i, (s, _p) in enumerate(seen) if s is WriteStage.REPLACED)
    first_synced = min(i for i, (s, _p) in enumerate(seen) if s is WriteStage.DIRECTORY_SYNCED)
    assert last_replaced < first_synced


def test_several_moves_each_have_their_outcome_and_a_failed_one_leaves_its_file(
    tmp_path: Path,
) -> None:
    finished = tmp_path / "finished"
    finished.mkdir()
    sources = [tmp_path / f"{pid}.pickle" for pid in (1, 2, 3)]
    for source in sources:
        source.write_bytes(source.name.encode())
    destinations = [finished / "1.pickle", tmp_path / "missing" / "2.pickle", finished / "3.pickle"]

    errors = atomic_move_many(list(zip(sources, destinations, strict=True)))

    assert errors[0] is None
    assert errors[2] is None
    assert isinstance(errors[1], CheckpointWriteError)
    assert "the file is still at" in str(errors[1])
    assert sorted(p.name for p in finished.iterdir()) == ["1.pickle", "3.pickle"]
    assert (finished / "3.pickle").read_bytes() == b"3.pickle"
    assert sorted(p.name for p in tmp_path.glob("*.pickle")) == ["2.pickle"]


def test_a_failed_folder_sync_fails_only_the_moves_through_that_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    finished, failed = tmp_path / "finished", tmp_path / "failed"
    finished.mkdir()
    failed.mkdir()
    sources = [tmp_path / "1.pickle", tmp_path / "2.pickle"]
    for source in sources:
        source.write_bytes(b"data")
    real_sync = atomic.fsync_directory

    def sync(folder: str | os.PathLike[str]) -> None:
        if Path(folder) == failed:
            raise OSError(5, "Input/output error")
        real_sync(folder)

    monkeypatch.setattr(atomic, "fsync_directory", sync)
    errors = atomic_move_many(
        [(sources[0], finished / "1.pickle"), (sources[1], failed / "2.pickle")]
    )

    assert errors[0] is None
    assert isinstance(errors[1], CheckpointWriteError)
    assert "could not sync its folder" in str(errors[1])
