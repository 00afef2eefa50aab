"""Daemon logs rotate by size, keep a set number of old logs, and take stderr along."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from actors.daemon.logfile import BACKUPS_ENV, MAX_BYTES_ENV, RotatingLog, rotation_settings


def test_a_log_past_its_size_is_renamed_and_a_new_one_started(tmp_path: Path) -> None:
    path = tmp_path / "worker-0.log"
    log = RotatingLog(path, max_bytes=1024, backups=2)
    for number in range(100):
        log.write(f"line {number:04d} " + "x" * 40 + "\n")
    log.close()

    kept = sorted(tmp_path.iterdir())
    assert [p.name for p in kept] == ["worker-0.log", "worker-0.log.1", "worker-0.log.2"]
    assert all(p.stat().st_size < 1024 + 60 for p in kept)
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in kept)
    assert path.read_text().splitlines()[-1].startswith("line 0099")
    newest_old = path.with_name("worker-0.log.1").read_text().splitlines()
    oldest_old = path.with_name("worker-0.log.2").read_text().splitlines()
    assert newest_old[0] > oldest_old[-1]  # .1 holds what came after .2


def test_without_backups_the_full_log_is_dropped(tmp_path: Path) -> None:
    log = RotatingLog(tmp_path / "a.log", max_bytes=1024, backups=0)
    for _ in range(50):
        log.write("y" * 100 + "\n")
    log.close()
    assert [p.name for p in tmp_path.iterdir()] == ["a.log"]


def test_stderr_of_the_process_follows_the_rotation(tmp_path: Path) -> None:
    path = tmp_path / "w.log"
    script = f"""
import os, sys
from pathlib import Path
from actors.daemon.logfile import RotatingLog, open_log
target = open_log(Path({str(path)!r}))
os.dup2(target.fileno(), 2)
log = RotatingLog(Path({str(path)!r}), max_bytes=1024, backups=1)
log.write("z" * 2000 + "\\n")
print("after the rotation", file=sys.stderr, flush=True)
"""
    subprocess.run([sys.executable, "-c", script], check=True, env=dict(os.environ), timeout=60)
    assert "after the rotation" in path.read_text()
    assert "after the rotation" not in path.with_name("w.log.1").read_text()


def test_rotation_settings_come_from_the_environment_and_bad_ones_are_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(MAX_BYTES_ENV, "2048")
    monkeypatch.setenv(BACKUPS_ENV, "3")
    assert rotation_settings() == (2048, 3)
    monkeypatch.setenv(MAX_BYTES_ENV, "lots")
    with pytest.raises(ValueError, match=r"\$WORKACTORS_LOG_MAX_BYTES must be a whole number"):
        rotation_settings()
    monkeypatch.setenv(MAX_BYTES_ENV, "10")
    with pytest.raises(ValueError, match="must be at least 1024"):
        rotation_settings()
