"""Spare files: the file a checkpoint replaced holds the next one, and none outlives its use."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from persistence import CheckpointWriteError, PicklePersistence
from persistence.atomic import TEMP_SUFFIX, atomic_write, atomic_write_many
from persistence.spare_files import SpareFiles
from tests.persistence.children import Plain

PLAIN = Plain.class_path()


def temporary_files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.endswith(TEMP_SUFFIX))


def test_the_file_a_write_replaced_holds_the_write_after_next(tmp_path: Path) -> None:
    target = tmp_path / "7.pickle"
    spares = SpareFiles()
    inodes = []
    for content in (b"first", b"second, longer", b"third"):
        atomic_write(target, content, spares=spares)
        inodes.append(os.stat(target).st_ino)
        assert target.read_bytes() == content
    assert inodes[2] == inodes[0]  # rewritten in place of a new file: no inode made or freed
    assert len(spares) == 1
    assert len(temporary_files(tmp_path)) == 1  # the spare, named as a temporary file
    assert os.stat(target).st_mode & 0o777 == 0o600


def test_a_spare_removed_meanwhile_is_replaced_by_a_new_file(tmp_path: Path) -> None:
    target = tmp_path / "7.pickle"
    spares = SpareFiles()
    atomic_write(target, b"first", spares=spares)
    atomic_write(target, b"second", spares=spares)
    for name in temporary_files(tmp_path):  # what adoption does to a dead writer's files
        (tmp_path / name).unlink()
    atomic_write(target, b"third", spares=spares)
    assert target.read_bytes() == b"third"


def test_a_failed_move_keeps_no_spare_of_the_file_the_target_still_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "7.pickle"
    target.write_bytes(b"old")
    spares = SpareFiles()

    def refuse(_source: object, _destination: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", refuse)
    (error,) = atomic_write_many([(target, b"new")], spares=spares)
    assert isinstance(error, CheckpointWriteError)
    assert len(spares) == 0
    assert temporary_files(tmp_path) == []
    assert target.read_bytes() == b"old"


def test_a_held_process_keeps_one_spare_until_it_retires(tmp_path: Path) -> None:
    persistence = PicklePersistence.create_from_basedir(tmp_path)
    persistence.hold(3)
    for step in range(4):
        persistence.save_state(3, PLAIN, {"state": "running", "step": step})
    assert len(temporary_files(persistence.running_directory)) == 1
    persistence.save_state(3, PLAIN, {"state": "finished"})
    assert temporary_files(persistence.running_directory) == []


def test_a_released_or_unheld_process_keeps_no_spare(tmp_path: Path) -> None:
    persistence = PicklePersistence.create_from_basedir(tmp_path)
    for step in range(3):
        persistence.save_state(4, PLAIN, {"state": "running", "step": step})
    persistence.hold(5)
    outcomes = persistence.save_states(
        [(5, PLAIN, {"state": "running", "step": 1}), (4, PLAIN, {"state": "running"})]
    )
    assert all(isinstance(outcome, str) for outcome in outcomes)
    persistence.save_state(5, PLAIN, {"state": "running", "step": 2})
    assert len(temporary_files(persistence.running_directory)) == 1  # 5's
    persistence.release(5)
    assert temporary_files(persistence.running_directory) == []
    assert len(persistence.load_all_processes()) == 2
