"""Intents: a pause, play or kill kept beside a checkpoint for the runtime that adopts it next."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from actors.control import Action, Intent, intent_path, read_intent, take_intent, write_intent
from persistence import MessageError
from tests.persistence import format1
from tests.persistence.strategies import FUZZ, actions, any_text


@FUZZ
@given(actions, st.none() | any_text)
def test_every_intent_survives_its_file(action: Action, message: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        write_intent(Path(folder), 1, Intent(action, message))
        assert take_intent(Path(folder), 1) == Intent(action, message)


def test_an_intent_is_written_privately_read_once_and_removed(tmp_path: Path) -> None:
    path = write_intent(tmp_path, 4, Intent(Action.KILL, "enough\x00 of that" * 10_000))
    assert path == intent_path(tmp_path, 4)
    assert path.stat().st_mode & 0o777 == 0o600
    assert take_intent(tmp_path, 4) == Intent(Action.KILL, "enough\x00 of that" * 10_000)
    assert not path.exists()
    assert take_intent(tmp_path, 4) is None


def test_a_later_intent_replaces_an_earlier_one(tmp_path: Path) -> None:
    write_intent(tmp_path, 4, Intent(Action.PAUSE))
    write_intent(tmp_path, 4, Intent(Action.PLAY))
    assert take_intent(tmp_path, 4) == Intent(Action.PLAY)


def test_an_intent_file_written_as_json_by_the_old_code_still_reads(tmp_path: Path) -> None:
    shutil.copyfile(format1.INTENT_FILE, intent_path(tmp_path, 7))
    assert take_intent(tmp_path, 7) == Intent(Action.KILL, format1.INTENT["message"])
    for action in Action:
        intent_path(tmp_path, 8).write_bytes(format1.intent_bytes(action.value, None))
        assert take_intent(tmp_path, 8) == Intent(action)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"action": "reboot", "message": null}', "JSON intent file that is not an intent"),
        (b'{"message": "x"}', "JSON intent file that is not an intent"),
        (b'{"action": "kill", "message": 5}', "a message is text"),
        (b"{not json", "JSON intent file"),
        (msgpack.packb({"v": 1, "type": "wake"}), "holds a Wake record, not an intent"),
        (msgpack.packb({"v": 9, "type": "intent"}), "version 9"),
        (b"\x00\xff", "not a workactors message"),
    ],
)
def test_an_unreadable_intent_is_logged_dropped_and_removed(
    tmp_path: Path, data: bytes, message: str
) -> None:
    with pytest.raises(MessageError, match=message):
        read_intent(data)
    intent_path(tmp_path, 3).write_bytes(data)
    with capture_logs() as logs:
        assert take_intent(tmp_path, 3) is None
    assert [log["event"] for log in logs] == ["control.intent_unreadable"]
    assert not intent_path(tmp_path, 3).exists()


@FUZZ
@given(st.binary(max_size=500) | st.binary(max_size=300).map(lambda data: b"{" + data))
def test_any_intent_file_content_is_an_intent_or_a_message_error(data: bytes) -> None:
    try:
        intent = read_intent(data)
    except MessageError:
        return
    assert isinstance(intent, Intent)
