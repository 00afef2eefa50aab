"""An OS process's birth: the same for as long as it lives, another for any other process."""

from __future__ import annotations

import os
import subprocess
import sys

from actors.os_identity import birth, boot_id, start_ticks

CHILD_TIMEOUT = 30.0


def test_a_live_process_keeps_its_birth_and_another_process_has_another() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        born = birth(child.pid)
        assert born is not None
        assert born.startswith(f"{boot_id()}/")
        assert birth(child.pid) == born
        assert birth(os.getpid()) not in (None, born)
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(CHILD_TIMEOUT)
    assert birth(child.pid) is None


def test_a_zombie_has_no_birth() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        # Until its parent waits for it, an ended child is a zombie: its /proc entry stays,
        # start tick and all, though it will never run again.
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
        assert os.path.exists(f"/proc/{child.pid}/stat")

        assert birth(child.pid) is None
    finally:
        child.wait(CHILD_TIMEOUT)


def test_the_start_tick_is_found_whatever_the_command_name_holds() -> None:
    fields = " ".join(str(number) for number in range(4, 23))
    assert start_ticks(f"12 (a) b (c)) S {fields} 23 24".encode()) == 22
    assert start_ticks(b"12 (cut short) S 1 2") is None
