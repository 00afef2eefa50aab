"""The checkpoint codec: signed, versioned, verified before anything is unpickled."""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import struct
import sys
import threading
import types
from pathlib import Path
from typing import Any

import msgpack
import pytest

from persistence import (
    Checkpoint,
    CheckpointCodec,
    CheckpointCorruptError,
    CheckpointEncodeError,
    CheckpointError,
    CheckpointKeyError,
    CheckpointLoadError,
    CheckpointSignatureError,
    CheckpointVersionError,
    load_or_create_key,
)
from persistence.codec import (
    FRAME_VERSION,
    KEY_SIZE,
    LEGACY_FRAME_VERSION,
    MAGIC,
    MAX_KEY_SIZE,
    PREFIX_SIZE,
    SIZES_PREFIX,
    frame_sizes,
)
from provenance import Dict, Int
from tests.persistence.helpers import mode_of

STATE: dict[str, Any] = {
    "class_name": "tests.Example",
    "pid": 7,
    "inputs": {"x": "0c4a3b1e-uuid"},
    "outputs": {"unstored": Int(5), "nested": Dict({"a": [1, 2.5, None]})},
    "state": "running",
    "ctx": {"todo": [0.9, 1.0, 1.1], "bytes": b"\x00\xff", "tuple": (1, "two")},
}


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    """Where the key is kept (created on first use)."""
    return tmp_path / "checkpoint.key"


@pytest.fixture
def codec(key_file: Path) -> CheckpointCodec:
    """A codec with a fresh key."""
    return CheckpointCodec.from_key_file(key_file)


@pytest.fixture
def encoded(codec: CheckpointCodec) -> bytes:
    """A small valid checkpoint."""
    return codec.encode(Checkpoint(7, "tests.Example", {"state": "running", "n": 1}))


class Exploit:
    """Unpickling this runs a shell command that creates a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def frame(payload: bytes, digest: bytes, *, version: int = LEGACY_FRAME_VERSION) -> bytes:
    """A format-1 checkpoint frame around ``payload`` with whatever ``digest`` the caller chose."""
    return struct.pack(">8sHQ", MAGIC, version, len(payload)) + digest + payload


def signed(key: bytes, payload: bytes) -> bytes:
    """A format-1 checkpoint frame around a pickled record, validly signed under ``key``."""
    header = struct.pack(">8sHQ", MAGIC, LEGACY_FRAME_VERSION, len(payload))
    return header + hmac.new(key, header + payload, hashlib.sha256).digest() + payload


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_checkpoint_round_trips_over_every_pickle_protocol(
    codec: CheckpointCodec, protocol: int
) -> None:
    data = codec.encode(Checkpoint(7, "tests.Example", STATE), protocol=protocol)
    decoded = codec.decode(data)
    assert (decoded.pid, decoded.class_path) == (7, "tests.Example")
    assert decoded.state["ctx"] == STATE["ctx"]
    assert decoded.state["outputs"]["unstored"].value == 5
    assert decoded.state["outputs"]["nested"].value == {"a": [1, 2.5, None]}
    assert decoded.state["inputs"] == STATE["inputs"]


def test_a_checkpoint_is_a_signed_envelope_then_the_pickled_state(
    codec: CheckpointCodec, encoded: bytes
) -> None:
    magic, version, envelope_size, payload_size = struct.unpack_from(">8sHIQ", encoded)
    assert (magic, version) == (MAGIC, FRAME_VERSION)
    envelope = msgpack.unpackb(encoded[PREFIX_SIZE : PREFIX_SIZE + envelope_size])
    assert {key: envelope[key] for key in ("version", "pid", "class", "state", "sizes")} == {
        "version": FRAME_VERSION,
        "pid": 7,
        "class": "tests.Example",
        "state": "running",
        "sizes": {"payload": payload_size},
    }
    assert pickle.loads(encoded[PREFIX_SIZE + envelope_size :]) == {"state": "running", "n": 1}
    assert len(encoded) == PREFIX_SIZE + envelope_size + payload_size


def test_every_single_flipped_bit_is_refused(codec: CheckpointCodec, encoded: bytes) -> None:
    for position in range(len(encoded)):
        for bit in (0x01, 0x80):
            tampered = bytearray(encoded)
            tampered[position] ^= bit
            with pytest.raises(CheckpointError):
                codec.decode(bytes(tampered))


def test_a_changed_payload_byte_is_refused_by_the_signature(
    codec: CheckpointCodec, encoded: bytes
) -> None:
    tampered = bytearray(encoded)
    tampered[-3] ^= 0x20
    with pytest.raises(CheckpointSignatureError, match=r"x\.pickle failed its signature check"):
        codec.decode(bytes(tampered), source="x.pickle")


def test_every_truncation_is_refused(codec: CheckpointCodec, encoded: bytes) -> None:
    for length in range(len(encoded)):
        with pytest.raises(CheckpointCorruptError, match=r"truncated|empty"):
            codec.decode(encoded[:length], source="x.pickle")


def test_trailing_bytes_are_refused(codec: CheckpointCodec, encoded: bytes) -> None:
    with pytest.raises(CheckpointCorruptError, match="followed by extra bytes"):
        codec.decode(encoded + b"\x00")


def test_a_foreign_file_is_refused_for_its_magic(codec: CheckpointCodec) -> None:
    foreign = pickle.dumps({"state": "running"})
    with pytest.raises(CheckpointCorruptError, match=r"f\.pickle is not a workactors checkpoint"):
        codec.decode(foreign, source="f.pickle")


def test_a_forged_pickle_without_a_valid_signature_never_runs(
    codec: CheckpointCodec, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Exploit(marker))
    forgeries = [
        payload,  # a bare pickle
        frame(payload, b"\x00" * 32),  # framed, no signature
        signed(os.urandom(KEY_SIZE), payload),  # signed with another key
    ]
    for forged in forgeries:
        with pytest.raises(CheckpointError):
            codec.decode(forged)
    assert not marker.exists()
    # The exploit is real: unpickled, it would have run.
    pickle.loads(payload)
    assert marker.exists()


def test_a_checkpoint_signed_with_another_key_is_refused(encoded: bytes, tmp_path: Path) -> None:
    other = CheckpointCodec.from_key_file(tmp_path / "other.key")
    with pytest.raises(CheckpointSignatureError, match="another key file"):
        other.decode(encoded)


def test_an_unknown_format_version_is_refused_naming_it(codec: CheckpointCodec) -> None:
    with pytest.raises(CheckpointVersionError, match=r"format version 3.*reads versions 1 and 2"):
        codec.decode(frame(b"payload", b"\x00" * 32, version=3))


def test_an_unknown_record_version_is_refused(codec: CheckpointCodec, key_file: Path) -> None:
    record = {"format": "workactors-checkpoint", "version": 2, "class_path": "a.B"}
    data = signed(key_file.read_bytes(), pickle.dumps(record))
    with pytest.raises(CheckpointVersionError, match="record of version 2"):
        codec.decode(data)


@pytest.mark.parametrize(
    "record",
    [
        ["not", "a", "dict"],
        {"format": "other"},
        {"format": "workactors-checkpoint", "version": 1, "pid": "7", "class_path": "a.B"},
    ],
    ids=["list", "other format", "pid as text"],
)
def test_a_signed_but_malformed_record_is_refused(
    codec: CheckpointCodec, key_file: Path, record: Any
) -> None:
    data = signed(key_file.read_bytes(), pickle.dumps(record))
    with pytest.raises(CheckpointCorruptError):
        codec.decode(data)


def test_a_signed_payload_that_needs_missing_code_raises_a_load_error(
    codec: CheckpointCodec,
) -> None:
    module = types.ModuleType("vanishing_module")
    exec("class Thing:\n    pass\n", module.__dict__)
    module.Thing.__module__ = "vanishing_module"
    sys.modules["vanishing_module"] = module
    try:
        data = codec.encode(Checkpoint(1, "a.B", {"thing": module.Thing()}))
    finally:
        del sys.modules["vanishing_module"]
    with pytest.raises(CheckpointLoadError, match="refers to code that is missing"):
        codec.decode(data)


def test_an_unpicklable_state_raises_an_encode_error_naming_the_process(
    codec: CheckpointCodec,
) -> None:
    with pytest.raises(CheckpointEncodeError, match=r"process 3 .*not picklable"):
        codec.encode(Checkpoint(3, "a.B", {"lock": threading.Lock()}))


def test_the_codec_reads_files_and_names_them_in_errors(
    codec: CheckpointCodec, encoded: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "7.pickle"
    path.write_bytes(encoded[:-1])
    with pytest.raises(CheckpointCorruptError, match=r"7\.pickle is truncated"):
        codec.read(path)
    path.write_bytes(encoded)
    assert codec.read(path).pid == 7


def test_the_key_file_is_created_private_whatever_the_umask(key_file: Path, no_umask: None) -> None:
    key = load_or_create_key(key_file)
    assert len(key) == KEY_SIZE
    assert mode_of(key_file) == 0o600
    assert load_or_create_key(key_file) == key
    assert [p.name for p in key_file.parent.iterdir()] == [key_file.name]


def test_the_key_file_is_created_with_its_parent_folder_private(
    tmp_path: Path, no_umask: None
) -> None:
    key_file = tmp_path / "new" / "home" / "checkpoint.key"
    load_or_create_key(key_file)
    assert mode_of(tmp_path / "new") == 0o700
    assert mode_of(tmp_path / "new" / "home") == 0o700


def test_threads_creating_the_key_at_once_agree_on_one_key(key_file: Path) -> None:
    start = threading.Barrier(8)
    keys: list[bytes] = []

    def create() -> None:
        start.wait(10)
        keys.append(load_or_create_key(key_file))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(keys) == 8
    assert len(set(keys)) == 1


def test_a_key_file_readable_by_others_is_refused(key_file: Path) -> None:
    load_or_create_key(key_file)
    key_file.chmod(0o640)
    with pytest.raises(CheckpointKeyError, match=r"readable or writable by others.*chmod 600"):
        load_or_create_key(key_file)


def test_a_damaged_key_file_is_refused(key_file: Path) -> None:
    key_file.write_bytes(b"short")
    key_file.chmod(0o600)
    with pytest.raises(CheckpointKeyError, match="holds 5 bytes, fewer than 32"):
        load_or_create_key(key_file)


def test_a_longer_key_file_made_by_the_user_signs_and_verifies(key_file: Path) -> None:
    """The shared key of several machines is "a file of 32+ random bytes" (API.md, Next)."""
    key_file.write_bytes(os.urandom(64))
    key_file.chmod(0o600)
    codec = CheckpointCodec.from_key_file(key_file)
    other_tail = CheckpointCodec(key_file.read_bytes()[:32])
    encoded = codec.encode(Checkpoint(7, "tests.Example", {"state": "running", "n": 1}))
    assert codec.decode(encoded).state == {"state": "running", "n": 1}
    with pytest.raises(CheckpointError):
        other_tail.decode(encoded)  # all 64 bytes are the key, not the first 32


def test_a_key_file_too_large_to_be_a_key_is_refused(key_file: Path) -> None:
    key_file.write_bytes(os.urandom(MAX_KEY_SIZE + 1))
    key_file.chmod(0o600)
    with pytest.raises(CheckpointKeyError, match="more than 4096 bytes: it is not a key file"):
        load_or_create_key(key_file)


def test_a_key_file_that_is_a_link_is_refused(key_file: Path, tmp_path: Path) -> None:
    real = tmp_path / "real.key"
    load_or_create_key(real)
    key_file.symlink_to(real)
    with pytest.raises(CheckpointKeyError, match="not a link"):
        load_or_create_key(key_file)


def test_a_key_that_is_too_short_is_refused() -> None:
    with pytest.raises(CheckpointKeyError, match="at least 32 bytes"):
        CheckpointCodec(b"0" * 16)


def test_a_codec_does_not_pickle_its_key(codec: CheckpointCodec) -> None:
    with pytest.raises(TypeError, match="secret key"):
        pickle.dumps(codec)


def test_frame_sizes_reads_the_parts_of_a_checkpoint_from_its_header(
    codec: CheckpointCodec,
) -> None:
    data = codec.encode(Checkpoint(5, "pkg.Mod", {"state": "running", "ctx": {"n": 1}}))
    sizes = frame_sizes(data[:SIZES_PREFIX])
    assert sizes.total == len(data)
    assert sizes.prefix == PREFIX_SIZE
    envelope = msgpack.unpackb(data[sizes.prefix : sizes.prefix + sizes.envelope])
    assert envelope["sizes"]["payload"] == sizes.payload
    with pytest.raises(CheckpointCorruptError):
        frame_sizes(b"not a checkpoint at all, not even close")
