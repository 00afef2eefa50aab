"""Checkpoint formats: format 2 describes itself; format 1 (earlier versions) keeps loading."""

from __future__ import annotations

import shutil
import struct
import threading
import uuid
from pathlib import Path

import pytest

from actors import ProcessState, Runtime
from persistence import (
    Checkpoint,
    CheckpointCodec,
    CheckpointKeyError,
    CheckpointVersionError,
    PicklePersistence,
    describe_checkpoint,
)
from persistence.codec import FRAME_VERSION, MAGIC
from provenance import Int, ProcessNode, Str, load_node
from tests.actors.workchains import TenSteps, hold
from tests.persistence import format1
from tests.persistence.children import Plain

TIMEOUT = 10.0


def test_the_frozen_format1_writer_writes_what_the_old_code_wrote() -> None:
    written = format1.encode_checkpoint(
        format1.KEY_FILE.read_bytes(),
        format1.CHECKPOINT_PID,
        format1.CHECKPOINT_CLASS,
        format1.CHECKPOINT_STATE,
    )
    assert written == format1.CHECKPOINT_FILE.read_bytes()
    assert format1.intent_bytes(**format1.INTENT) == format1.INTENT_FILE.read_bytes()


def test_a_checkpoint_written_by_the_old_code_decodes_with_its_state_intact() -> None:
    codec = CheckpointCodec(format1.KEY_FILE.read_bytes())
    checkpoint = codec.read(format1.CHECKPOINT_FILE)
    assert (checkpoint.pid, checkpoint.class_path) == (7, format1.CHECKPOINT_CLASS)
    assert checkpoint.state == format1.CHECKPOINT_STATE
    assert (checkpoint.created, checkpoint.updated) == (None, None)


def test_a_format1_checkpoint_loads_through_the_persistence_and_is_rewritten_in_format2(
    tmp_path: Path,
) -> None:
    key = tmp_path / "checkpoint.key"
    shutil.copyfile(format1.KEY_FILE, key)
    key.chmod(0o600)  # git does not keep the mode
    store = PicklePersistence.create_from_basedir(tmp_path / "base", key_file=key)
    path = Path(store.get_running_path(7))
    shutil.copyfile(format1.CHECKPOINT_FILE, path)
    try:
        [process] = store.load_all_processes()
        assert isinstance(process, Plain)
        assert process.state == format1.CHECKPOINT_STATE
        store.save_state(7, Plain.class_path(), {**process.state, "state": "running"})
    finally:
        store.release_all()
    assert path.read_bytes()[8:10] == struct.pack(">H", FRAME_VERSION)
    described = describe_checkpoint(path, key)
    assert (described.pid, described.process_state, described.position) == (
        7,
        "running",
        (1, (0, None)),
    )


def test_a_format1_checkpoint_cannot_be_described_without_unpickling() -> None:
    with pytest.raises(CheckpointVersionError, match=r"format version 1.*still loads"):
        CheckpointCodec(format1.KEY_FILE.read_bytes()).describe_file(format1.CHECKPOINT_FILE)


def test_an_unknown_format_version_is_refused_by_describe_and_decode_naming_it(
    tmp_path: Path,
) -> None:
    codec = CheckpointCodec.from_key_file(tmp_path / "key")
    data = bytearray(codec.encode(Checkpoint(1, "a.B", {"state": "running"})))
    data[8:10] = struct.pack(">H", 7)
    for read in (codec.decode, codec.describe):
        with pytest.raises(CheckpointVersionError, match=r"format version 7; .*versions 1 and 2"):
            read(bytes(data))


def test_describing_needs_the_key_file_and_never_creates_one(tmp_path: Path) -> None:
    codec = CheckpointCodec.from_key_file(tmp_path / "key")
    path = tmp_path / "1.pickle"
    path.write_bytes(codec.encode(Checkpoint(1, "a.B", {"state": "running"})))
    with pytest.raises(CheckpointKeyError, match="cannot read the checkpoint key"):
        describe_checkpoint(path, tmp_path / "missing.key")
    assert not (tmp_path / "missing.key").exists()
    assert describe_checkpoint(path, tmp_path / "key").class_path == "a.B"


def test_a_durable_runtime_adopts_a_format1_checkpoint_and_finishes_it(home: Path) -> None:
    tag = uuid.uuid4().hex
    reached, release = hold(tag)
    first = Runtime(home, durable=True)
    process, _done = first.launch(TenSteps, {"tag": Str(tag), "stop_at": Int(5)})
    pid = process.pid
    assert pid is not None
    assert reached.wait(TIMEOUT)
    stopping = threading.Thread(target=first.shutdown)
    stopping.start()
    release.set()
    stopping.join(TIMEOUT)
    # Rewrite the checkpoint the way the old code wrote it, with the home's own key.
    path = first.running_directory / f"{pid}.pickle"
    key = (home / "checkpoint.key").read_bytes()
    saved = CheckpointCodec(key).read(path)
    path.write_bytes(format1.encode_checkpoint(key, pid, saved.class_path, saved.state))
    assert path.read_bytes().startswith(MAGIC + b"\x00\x01")

    with Runtime(home, durable=True) as second:
        assert second.adopt_checkpoints() == [pid]
        assert second.wait(pid, TIMEOUT)
        node = load_node(pid)
        assert isinstance(node, ProcessNode)
        assert node.process_state is ProcessState.FINISHED
        assert node.get_outputs_dict()["trace"].value == list(range(1, 11))
        retired = describe_checkpoint(
            second.finished_directory / f"{pid}.pickle", key_file=home / "checkpoint.key"
        )
    assert (retired.pid, retired.process_state) == (pid, "finished")
