"""Checkpoint envelopes: what a checkpoint says about itself, read without unpickling."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import pickle
import struct
from pathlib import Path
from typing import Any

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from persistence import Checkpoint, CheckpointCodec, CheckpointCorruptError, CheckpointError
from persistence.codec import FRAME_VERSION, MAGIC
from persistence.envelope import Envelope, EnvelopeError, pack, summarise, unpack
from provenance import Int
from tests.persistence.strategies import FUZZ, any_text, pids

KEY = bytes(range(100, 132))

positions: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.tuples(),
    lambda inner: st.tuples(st.integers(-(2**63), 2**63 - 1), inner) | st.tuples(inner),
    max_leaves=20,
)
times = st.floats(min_value=0, max_value=4e9, allow_nan=False)


envelopes = st.builds(
    Envelope,
    st.just(2),
    pids,
    any_text,
    st.none() | any_text,
    positions,
    st.dictionaries(any_text, st.integers(0, 2**63 - 1), max_size=5),
    times,
    times,
)


@FUZZ
@given(envelopes)
def test_every_envelope_survives_its_encoding(envelope: Envelope) -> None:
    assert unpack(pack(envelope)) == envelope


@FUZZ
@given(pids, any_text, positions, st.integers(0, 50), st.integers(0, 50))
def test_a_checkpoint_describes_itself_from_its_envelope(
    pid: int, class_path: str, position: Any, inputs: int, context: int
) -> None:
    codec = CheckpointCodec(KEY)
    state = {
        "state": "waiting",
        "stepper": position,
        "inputs": {f"i{n}": f"uuid-{n}" for n in range(inputs)},
        "outputs": {"unstored": Int(5)},
        "ctx": {f"k{n}": [n] * n for n in range(context)},
    }
    data = codec.encode(Checkpoint(pid, class_path, state))
    described = codec.describe(data)
    assert (described.pid, described.class_path) == (pid, class_path)
    assert (described.process_state, described.position) == ("waiting", position)
    payload = len(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
    assert described.sizes == {
        "payload": payload,
        "inputs": inputs,
        "outputs": 1,
        "context": context,
    }
    assert described.created <= described.updated


def test_an_envelope_reads_as_plain_json_values() -> None:
    envelope = Envelope(2, 7, "pkg.mod.Cls", "waiting", (1, (0, None)), {"payload": 9}, 0.0, 1.5)
    assert envelope.as_dict() == {
        "version": 2,
        "pid": 7,
        "class_path": "pkg.mod.Cls",
        "process_state": "waiting",
        "position": [1, [0, None]],
        "sizes": {"payload": 9},
        "created": "1970-01-01T00:00:00+00:00",
        "updated": "1970-01-01T00:00:01.500000+00:00",
    }


def test_a_state_without_process_keys_has_an_envelope_of_nils_and_the_payload_size() -> None:
    envelope = summarise(3, "a.B", {"stepper": ["not", "a", "position"]}, 10, created=1, updated=2)
    assert (envelope.process_state, envelope.position, envelope.sizes) == (
        None,
        None,
        {"payload": 10},
    )


def test_a_rewritten_checkpoint_keeps_its_created_time_and_a_new_updated_time(
    tmp_path: Path,
) -> None:
    writer = CheckpointCodec(KEY)
    first = writer.describe(writer.encode(Checkpoint(5, "a.B", {"state": "running"})))
    second = writer.describe(writer.encode(Checkpoint(5, "a.B", {"state": "waiting"})))
    assert second.created == first.created
    assert second.updated >= first.updated
    # Another worker that read the checkpoint keeps it too.
    adopter = CheckpointCodec(KEY)
    adopter.decode(writer.encode(Checkpoint(5, "a.B", {"state": "waiting"})))
    third = adopter.describe(adopter.encode(Checkpoint(5, "a.B", {"state": "running"})))
    assert third.created == first.created
    # A terminal checkpoint is the last: the codec forgets the process.
    adopter.encode(Checkpoint(5, "a.B", {"state": "finished"}))
    fresh = adopter.describe(adopter.encode(Checkpoint(5, "a.B", {"state": "running"})))
    assert fresh.created > first.created
    given_time = adopter.describe(adopter.encode(Checkpoint(6, "a.B", {}, created=12.5)))
    assert given_time.created == 12.5


def frame(envelope: bytes, payload: bytes, key: bytes = KEY) -> bytes:
    """A format-2 checkpoint of these parts, validly signed with ``key``."""
    header = struct.pack(">8sHIQ", MAGIC, FRAME_VERSION, len(envelope), len(payload))
    return (
        header
        + hmac.new(key, header + envelope + payload, hashlib.sha256).digest()
        + envelope
        + payload
    )


GOOD_ENVELOPE = pack(Envelope(2, 1, "a.B", None, None, {"payload": 1}, 1.0, 1.0))
GOOD_PAYLOAD = pickle.dumps({"state": "running"})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"version": 3}, "envelope has version 3"),
        ({"extra": 1}, r"unknown fields \['extra'\]"),
        ({"pid": "1"}, "malformed pid '1'"),
        ({"pid": -1}, "malformed pid -1"),
        ({"class": 5}, "malformed class 5"),
        ({"position": (1, "x")}, "malformed position"),
        ({"sizes": {"payload": -1}}, "malformed sizes"),
        ({"created": "yesterday"}, "malformed created"),
    ],
)
def test_a_signed_but_malformed_envelope_is_refused_saying_what(
    body: dict[str, Any], message: str
) -> None:
    good = msgpack.unpackb(GOOD_ENVELOPE)
    with pytest.raises(CheckpointCorruptError, match=f"is signed but .*{message}"):
        CheckpointCodec(KEY).describe(frame(msgpack.packb({**good, **body}), GOOD_PAYLOAD))


def test_a_missing_envelope_field_is_refused() -> None:
    good = msgpack.unpackb(GOOD_ENVELOPE)
    del good["updated"]
    with pytest.raises(CheckpointCorruptError, match=r"missing \['updated'\]"):
        CheckpointCodec(KEY).decode(frame(msgpack.packb(good), GOOD_PAYLOAD))


def test_a_payload_that_is_no_state_is_refused() -> None:
    with pytest.raises(CheckpointCorruptError, match="payload is a list, not a saved state"):
        CheckpointCodec(KEY).decode(frame(GOOD_ENVELOPE, pickle.dumps([1])))


def test_an_envelope_error_is_a_value_error_for_callers_outside_the_codec() -> None:
    with pytest.raises(EnvelopeError, match="not msgpack"):
        unpack(b"\xc1")


def only_checkpoint_errors(codec: CheckpointCodec, data: bytes) -> None:
    """Decode and describe ``data``: either may succeed, or raise a CheckpointError; no other."""
    for read in (codec.decode, codec.describe):
        with contextlib.suppress(CheckpointError):
            read(data)


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_are_a_checkpoint_or_a_checkpoint_error(data: bytes) -> None:
    only_checkpoint_errors(CheckpointCodec(KEY), data)
    only_checkpoint_errors(CheckpointCodec(KEY), MAGIC + data)
    only_checkpoint_errors(CheckpointCodec(KEY), MAGIC + b"\x00\x02" + data)


@FUZZ
@given(st.binary(max_size=400))
def test_any_signed_envelope_is_read_or_refused_with_a_checkpoint_error(envelope: bytes) -> None:
    only_checkpoint_errors(CheckpointCodec(KEY), frame(envelope, GOOD_PAYLOAD))


@FUZZ
@given(st.binary(max_size=400))
def test_any_signed_payload_is_read_or_refused_with_a_checkpoint_error(payload: bytes) -> None:
    only_checkpoint_errors(CheckpointCodec(KEY), frame(GOOD_ENVELOPE, payload))


@FUZZ
@given(st.integers(0, 2000), st.integers(0, 255))
def test_every_flipped_byte_of_a_real_checkpoint_is_refused(position: int, value: int) -> None:
    data = bytearray(CheckpointCodec(KEY).encode(Checkpoint(9, "a.B", {"state": "running"})))
    position %= len(data)
    if data[position] == value:
        return
    data[position] = value
    with pytest.raises(CheckpointError):
        CheckpointCodec(KEY).decode(bytes(data))
