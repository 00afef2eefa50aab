"""Inter-process messages: msgpack records that round-trip, fit their transport, refuse the rest."""

from __future__ import annotations

import base64
import contextlib

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from persistence import MessageError, PersistenceError
from persistence.messages import (
    MAX_PID,
    MESSAGE_VERSION,
    NOTIFY_LIMIT,
    WAKE,
    Action,
    ControlRequest,
    Intent,
    Record,
    Terminated,
    decode,
    decode_notify,
    encode,
    encode_notify,
)
from tests.persistence.strategies import FUZZ, any_text, records

INT64 = st.integers(min_value=-(2**63), max_value=2**64 - 1)  # what msgpack can pack


@FUZZ
@given(records)
def test_every_record_survives_its_encoding(record: Record) -> None:
    assert decode(encode(record)) == record


@FUZZ
@given(records)
def test_every_record_survives_a_notify_payload_or_is_cut_with_a_note(record: Record) -> None:
    payload = encode_notify(record)
    assert len(payload.encode()) <= NOTIFY_LIMIT
    assert payload.isascii()
    assert "\x00" not in payload
    received = decode_notify(payload)
    text = getattr(record, "message", None)
    if len(encode(record)) * 4 // 3 < NOTIFY_LIMIT - 4:
        assert received == record
    else:
        assert text is not None
        cut = getattr(received, "message", None)
        assert cut is not None
        head = cut[: cut.rindex(" [")]
        assert text.startswith(head)
        assert cut.endswith(f" of {len(text)} characters cut to fit {NOTIFY_LIMIT} bytes]")
        assert type(received) is type(record)


@FUZZ
@given(any_text, st.integers(min_value=200, max_value=70_000))
def test_a_kill_message_longer_than_a_limit_keeps_its_head_and_says_what_was_cut(
    text: str, limit: int
) -> None:
    request = ControlRequest(Action.KILL, 42, text)
    data = encode(request, limit=limit)
    assert len(data) <= limit
    received = decode(data)
    assert isinstance(received, ControlRequest)
    assert (received.action, received.pid) == (Action.KILL, 42)
    if received.message == text:
        assert len(encode(request)) <= limit
    else:
        assert received.message is not None
        head = received.message[: received.message.rindex(" [")]
        assert text.startswith(head)
        assert received.message.endswith(f" of {len(text)} characters cut to fit {limit} bytes]")


def test_a_cut_is_logged_and_keeps_as_much_as_fits() -> None:
    text = "é" * 100_000
    with capture_logs() as logs:
        data = encode(ControlRequest(Action.KILL, 1, text), limit=8000)
    received = decode(data)
    assert isinstance(received, ControlRequest)
    assert received.message is not None
    assert len(data) >= 8000 - 2  # a two-byte character may not fit in the last byte
    assert received.message.endswith("characters cut to fit 8000 bytes]")
    assert [log["event"] for log in logs] == ["message.text_cut"]
    assert logs[0]["kept"] == received.message.index(" [")


def test_a_record_with_nothing_to_cut_that_does_not_fit_is_refused() -> None:
    with pytest.raises(MessageError, match="cannot fit in 10 bytes"):
        encode(Terminated(5), limit=10)


def test_the_wire_form_is_a_versioned_map() -> None:
    assert msgpack.unpackb(encode(ControlRequest(Action.PAUSE, 3))) == {
        "v": MESSAGE_VERSION,
        "type": "control",
        "action": "pause",
        "pid": 3,
        "message": None,
    }
    assert msgpack.unpackb(encode(WAKE)) == {"v": 1, "type": "wake"}


def wire(**body: object) -> bytes:
    return msgpack.packb(body)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (wire(v=2, type="wake"), r"version 2; this workactors reads version 1"),
        (wire(type="wake"), r"version None"),
        (wire(v=1, type="reboot"), r"unknown message type 'reboot'; known: wake, ended"),
        (wire(v=1, type="ended", pid=3, why="x"), r"unknown fields \['why'\]"),
        (wire(v=1, type="ended"), r"missing fields \['pid'\]"),
        (wire(v=1, type="ended", pid="3"), r"a pid is an integer"),
        (wire(v=1, type="ended", pid=True), r"a pid is an integer"),
        (wire(v=1, type="ended", pid=-1), r"a pid is an integer"),
        (wire(v=1, type="control", action="stop", pid=3, message=None), "an action is one of"),
        (wire(v=1, type="control", action="kill", pid=3, message=b"x"), "text or nil"),
        (msgpack.packb([1, "wake"]), "no map"),
        (msgpack.packb({1: 2}), "not a workactors message"),
        (b"wake", "not a workactors message"),
        (b"", "not a workactors message"),
        (encode(WAKE) + b"\x00", "not a workactors message"),
    ],
)
def test_what_is_not_a_message_of_this_version_is_refused_saying_why(
    data: bytes, message: str
) -> None:
    with pytest.raises(MessageError, match=message):
        decode(data)


@pytest.mark.parametrize(
    "record",
    [
        Terminated(-1),
        Terminated(MAX_PID + 1),
        Terminated("3"),  # type: ignore[arg-type]
        ControlRequest("reboot", 1),  # type: ignore[arg-type]
        Intent(Action.KILL, 42),  # type: ignore[arg-type]
    ],
)
def test_a_record_with_a_wrong_field_is_refused_when_encoding(record: Record) -> None:
    with pytest.raises(MessageError):
        encode(record)


def test_the_message_error_is_a_persistence_error_and_a_value_error() -> None:
    assert issubclass(MessageError, PersistenceError)
    assert issubclass(MessageError, ValueError)


@FUZZ
@given(st.binary(max_size=2000))
def test_any_bytes_decode_to_a_record_or_a_message_error(data: bytes) -> None:
    try:
        record = decode(data)
    except MessageError:
        return
    assert decode(encode(record)) == record


@FUZZ
@given(
    st.one_of(
        st.text(max_size=500), st.binary(max_size=1500).map(lambda b: base64.b64encode(b).decode())
    )
)
def test_any_notify_payload_decodes_to_a_record_or_a_message_error(payload: str) -> None:
    with contextlib.suppress(MessageError):
        decode_notify(payload)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(["v", "type", "pid", "action", "message", "extra"]),
        st.one_of(
            INT64,
            st.text(max_size=10),
            st.none(),
            st.booleans(),
            st.binary(max_size=5),
            st.sampled_from(["wake", "ended", "control", "intent", "kill", "pause"]),
            st.floats(),
            st.lists(INT64, max_size=3),
        ),
    )
)
def test_any_map_decodes_to_a_record_or_a_message_error(body: dict[str, object]) -> None:
    with contextlib.suppress(MessageError):
        decode(msgpack.packb(body))
