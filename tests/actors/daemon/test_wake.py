"""Wake sockets: how submitters and the CLI reach workers, and what happens when none runs."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from actors.control import Action, Intent
from actors.daemon.paths import MAX_SOCKET_PATH, DaemonPaths
from actors.daemon.wake import (
    MAX_DATAGRAM,
    WAKE,
    ControlRequest,
    Inbox,
    Message,
    Terminated,
    decode,
    encode,
    notify_workers,
)
from persistence import MessageError, messages
from tests.persistence.strategies import FUZZ, actions, any_text, pids

RECEIVE_TIMEOUT = 10.0


def receive(inbox: Inbox, count: int) -> list[Message]:
    """Wait for ``count`` messages on ``inbox`` (select, not sleep)."""
    got: list[Message] = []
    deadline = time.monotonic() + RECEIVE_TIMEOUT
    while len(got) < count:
        readable, _, _ = select.select([inbox], [], [], max(0.0, deadline - time.monotonic()))
        if not readable:
            pytest.fail(f"only {len(got)} of {count} messages arrived: {got}")
        got.extend(inbox.drain())
    return got


@pytest.mark.parametrize(
    "message",
    [
        WAKE,
        Terminated(17),
        ControlRequest(Action.PAUSE, 3),
        ControlRequest(Action.PLAY, 3),
        ControlRequest(Action.KILL, 4),
        ControlRequest(Action.KILL, 4, "why: because [of] this ünïcode"),
    ],
)
def test_every_message_survives_its_encoding(message: Message) -> None:
    assert decode(encode(message)) == message


@FUZZ
@given(actions, pids, st.none() | any_text)
def test_every_control_request_survives_its_datagram_or_is_cut_with_a_note(
    action: Action, pid: int, text: str | None
) -> None:
    data = encode(ControlRequest(action, pid, text))
    assert len(data) <= MAX_DATAGRAM
    received = decode(data)
    assert isinstance(received, ControlRequest)
    assert (received.action, received.pid) == (action, pid)
    if received.message != text:
        assert text is not None
        assert received.message is not None
        assert text.startswith(received.message[: received.message.rindex(" [")])
        assert received.message.endswith(
            f" of {len(text)} characters cut to fit {MAX_DATAGRAM} bytes]"
        )


@pytest.mark.parametrize(
    "data",
    [b"", b"wake", b"wake 3", b"terminated 3", b"kill 3 why", messages.encode(Intent(Action.KILL))],
)
def test_a_datagram_that_is_no_message_is_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="not a daemon message"):
        decode(data)


@FUZZ
@given(st.binary(max_size=1000))
def test_any_datagram_is_a_message_or_a_message_error(data: bytes) -> None:
    try:
        message = decode(data)
    except MessageError:
        return
    assert decode(encode(message)) == message


def test_a_worker_drops_a_bad_datagram_with_a_log_and_reads_on(tmp_path: Path) -> None:
    with Inbox(DaemonPaths.of(tmp_path), 0) as inbox:
        assert notify_workers(tmp_path, b"terminated 5") == 1  # the old text protocol
        assert notify_workers(tmp_path, messages.encode(Intent(Action.PAUSE))) == 1
        assert notify_workers(tmp_path, Terminated(5)) == 1
        with capture_logs() as logs:
            assert receive(inbox, 1) == [Terminated(5)]
    assert [log["event"] for log in logs] == ["daemon.bad_message"] * 2


def test_a_kill_message_of_any_length_reaches_the_worker_cut_to_fit_a_datagram(
    tmp_path: Path,
) -> None:
    text = "why: " + "ünïcode\x00 " * 100_000
    with Inbox(DaemonPaths.of(tmp_path), 0) as inbox:
        assert notify_workers(tmp_path, ControlRequest(Action.KILL, 8, text)) == 1
        [received] = receive(inbox, 1)
    assert isinstance(received, ControlRequest)
    assert (received.action, received.pid) == (Action.KILL, 8)
    assert received.message is not None
    head, _, note = received.message.rpartition(" [")
    assert text.startswith(head)
    assert len(head) > 20_000
    assert note == f"{len(text) - len(head)} of {len(text)} characters cut to fit 65536 bytes]"


def test_notifying_a_home_without_a_daemon_reaches_no_one_and_creates_nothing(
    tmp_path: Path,
) -> None:
    home = tmp_path / "quiet"
    started = time.perf_counter()
    assert notify_workers(home) == 0
    assert notify_workers(home, ControlRequest(Action.KILL, 1)) == 0
    assert time.perf_counter() - started < 0.1
    assert not home.exists()


def test_a_worker_inbox_receives_what_notify_sends_in_order(tmp_path: Path) -> None:
    paths = DaemonPaths.of(tmp_path)
    with Inbox(paths, 0) as inbox:
        assert notify_workers(tmp_path) == 1
        assert notify_workers(tmp_path, Terminated(5)) == 1
        assert notify_workers(tmp_path, ControlRequest(Action.KILL, 6, "enough")) == 1
        assert receive(inbox, 3) == [WAKE, Terminated(5), ControlRequest(Action.KILL, 6, "enough")]
        assert inbox.path.stat().st_mode & 0o777 == 0o600
    assert not inbox.path.exists()


def test_every_worker_gets_a_broadcast_except_the_one_excluded(tmp_path: Path) -> None:
    paths = DaemonPaths.of(tmp_path)
    with Inbox(paths, 0) as first, Inbox(paths, 1) as second:
        assert notify_workers(tmp_path, Terminated(9), exclude=first.path) == 1
        assert receive(second, 1) == [Terminated(9)]
        assert first.drain() == []


def test_a_socket_left_by_a_dead_worker_is_removed_and_a_live_one_kept(tmp_path: Path) -> None:
    paths = DaemonPaths.of(tmp_path)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    stale = paths.socket_of(3, dead_pid)
    stale.parent.mkdir(parents=True, exist_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as orphan:
        orphan.bind(os.fspath(stale))  # bound, then closed: a socket file no one listens on
    with Inbox(paths, 0) as live:
        assert notify_workers(tmp_path) == 1
        assert not stale.exists()
        assert live.path.exists()
        assert receive(live, 1) == [WAKE]


def test_wakes_to_a_worker_that_does_not_read_never_block_the_submitter(tmp_path: Path) -> None:
    with Inbox(DaemonPaths.of(tmp_path), 0) as inbox:
        started = time.perf_counter()
        for _ in range(200):  # far more than a datagram queue holds
            notify_workers(tmp_path)
        assert time.perf_counter() - started < 2.0
        assert WAKE in inbox.drain()


def test_a_home_too_deep_for_a_socket_path_puts_the_sockets_in_a_private_folder_under_tmp(
    tmp_path: Path,
) -> None:
    deep = tmp_path.joinpath(*(["a-rather-long-folder-name"] * 5))
    paths = DaemonPaths.of(deep)
    assert paths.sockets != paths.folder
    assert str(paths.sockets).startswith("/tmp/workactors-")
    with Inbox(paths, 12) as inbox:
        assert len(os.fsencode(inbox.path)) <= MAX_SOCKET_PATH
        assert paths.sockets.stat().st_mode & 0o777 == 0o700
        assert notify_workers(deep, Terminated(1)) == 1
        assert receive(inbox, 1) == [Terminated(1)]


def test_a_shallow_home_keeps_its_sockets_in_its_daemon_folder(tmp_path: Path) -> None:
    home = Path("/tmp") / f"wa-{os.getpid()}"
    assert DaemonPaths.of(home).sockets == DaemonPaths.of(home).folder
