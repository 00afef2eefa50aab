"""What the supervisor looks after besides its workers: log sizes and ``running/finished``."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from actors import Runtime
from actors.daemon import start_daemon, stop_daemon
from actors.daemon.housekeeping import (
    KEEP_COUNT_ENV,
    KEEP_DAYS_ENV,
    Retention,
    prune_finished,
)
from actors.daemon.logfile import MAX_BYTES_ENV
from actors.daemon.paths import DaemonPaths
from provenance import Int
from tests.actors.daemon.helpers import REPOSITORY, ended, wait_for
from tests.actors.workchains import Double

TIMEOUT = 60.0


def _finished(folder: Path, count: int, *, age_days: float = 0.0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for pid in range(count):
        path = folder / f"{pid}.pickle"
        path.write_bytes(b"checkpoint")
        moment = time.time() - age_days * 86_400 - (count - pid)  # higher pid: newer
        os.utime(path, (moment, moment))
        made.append(path)
    return made


def test_pruning_keeps_the_newest_up_to_the_count(tmp_path: Path) -> None:
    _finished(tmp_path, 5)
    (tmp_path / "0.reason.txt").write_text("why")

    assert prune_finished(tmp_path, Retention(days=None, count=2)) == 3

    assert sorted(p.name for p in tmp_path.iterdir()) == ["3.pickle", "4.pickle"]


def test_pruning_removes_what_is_older_than_the_age(tmp_path: Path) -> None:
    old = _finished(tmp_path / "old", 2, age_days=40)
    for path in old:
        path.rename(tmp_path / path.name)
    (tmp_path / "new.pickle").write_bytes(b"checkpoint")

    assert prune_finished(tmp_path, Retention(days=30, count=None)) == 2
    assert [p.name for p in tmp_path.glob("*.pickle")] == ["new.pickle"]


def test_retention_comes_from_the_environment_and_bad_values_are_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(KEEP_DAYS_ENV, "1.5")
    monkeypatch.setenv(KEEP_COUNT_ENV, "7")
    assert Retention.from_environment() == Retention(days=1.5, count=7)
    monkeypatch.setenv(KEEP_COUNT_ENV, "-1")
    with pytest.raises(ValueError, match=r"\$WORKACTORS_FINISHED_KEEP_COUNT must be 0 or more"):
        Retention.from_environment()


def test_a_daemon_rotates_its_logs_and_prunes_finished_checkpoints(
    daemon_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(MAX_BYTES_ENV, "1024")
    monkeypatch.setenv(KEEP_COUNT_ENV, "2")
    paths = DaemonPaths.of(daemon_home)
    start_daemon(daemon_home, 1, cwd=REPOSITORY)
    with Runtime(daemon_home) as runtime:
        pids = [runtime.queue_up(Double, {"x": Int(n)}) for n in range(4)]
        wait_for(lambda: ended(daemon_home, *pids), TIMEOUT, "the end of the processes")
    finished = paths.running / "finished"
    assert len(list(finished.glob("*.pickle"))) == 4
    stop_daemon(daemon_home, TIMEOUT)
    # The processes ran side by side, so the last two to end are not always the last two
    # submitted: the newest checkpoints are the ones that moved last. Checkpoints written in
    # one group commit may share their mtime: any of those may be kept.
    mtimes = {int(path.stem): path.stat().st_mtime for path in finished.glob("*.pickle")}

    start_daemon(daemon_home, 1, cwd=REPOSITORY)  # prunes as it starts

    wait_for(
        lambda: len(list(finished.glob("*.pickle"))) == 2, TIMEOUT, "pruning to the newest two"
    )
    kept = {int(p.stem) for p in finished.glob("*.pickle")}
    assert min(mtimes[pid] for pid in kept) >= max(mtimes[pid] for pid in mtimes.keys() - kept), (
        f"kept {sorted(kept)} of {mtimes}"
    )
    rotated = paths.folder / "supervisor.log.1"
    assert rotated.exists()
    assert paths.supervisor_log.stat().st_size < 1024 + 1024
