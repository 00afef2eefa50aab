"""Status and state files, and what ``view`` makes of them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from actors.daemon.manage import start_daemon, stop_daemon
from actors.daemon.paths import DaemonPaths
from actors.daemon.status import (
    DaemonState,
    WorkerStatus,
    live_workers,
    process_started,
    supervisor_running,
    view,
)
from actors.os_identity import boot_id
from persistence.atomic import make_private_directory
from tests.actors.daemon.helpers import REPOSITORY
from tests.persistence.children import lock_held_by_child


def _gone_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_a_worker_status_round_trips_through_its_file(tmp_path: Path) -> None:
    paths = DaemonPaths.of(tmp_path)
    make_private_directory(paths.folder)
    status = replace(WorkerStatus.of_this_process(2, supervisor_pid=1), held=(5, 8))
    assert status.birth is not None
    status.write(paths)
    again = WorkerStatus.read(paths.worker_status(2))
    assert again == status
    assert again is not None
    assert again.alive
    assert paths.worker_status(2).stat().st_mode & 0o777 == 0o600


def test_a_status_naming_a_dead_or_reused_pid_is_not_alive(tmp_path: Path) -> None:
    me = os.getpid()
    started = process_started(me) or 0.0
    assert not WorkerStatus(0, _gone_pid(), 0.0).alive
    assert not WorkerStatus(0, me, started - 3600).alive
    # Another process's birth: the pid was reused, even if within the same second.
    assert not WorkerStatus(0, me, started, birth=f"{boot_id()}/0").alive
    assert not DaemonState(me, started, 1, str(tmp_path), birth=f"{boot_id()}/0").alive


def test_an_unreadable_status_file_reads_as_none(tmp_path: Path) -> None:
    path = tmp_path / "worker-0.json"
    path.write_text("{not json")
    assert WorkerStatus.read(path) is None
    path.write_text('{"index": 0}')
    assert WorkerStatus.read(path) is None
    assert WorkerStatus.read(tmp_path / "missing.json") is None


def test_the_supervisor_lock_tells_whether_a_daemon_runs(tmp_path: Path) -> None:
    paths = DaemonPaths.of(tmp_path)
    assert not supervisor_running(paths)
    make_private_directory(paths.lock_folder)
    with lock_held_by_child(paths.supervisor_lock) as held:
        assert supervisor_running(paths)
        held.release()
        held.process.join(30)
    assert not supervisor_running(paths)


def test_view_lists_the_checkpoints_no_live_worker_holds(tmp_path: Path) -> None:
    paths = DaemonPaths.of(tmp_path)
    make_private_directory(paths.folder)
    make_private_directory(paths.running)
    for pid in (3, 4, 7):
        (paths.running / f"{pid}.pickle").write_bytes(b"")
    me = os.getpid()
    WorkerStatus(0, me, process_started(me) or 0.0, held=(4,)).write(paths)
    WorkerStatus(1, _gone_pid(), 0.0, held=(7,)).write(paths)
    DaemonState(me, process_started(me) or 0.0, 2, str(tmp_path)).write(paths)

    seen = view(tmp_path)

    assert not seen.running
    assert seen.state is not None
    assert seen.state.workers == 2
    assert [worker.index for worker in seen.workers] == [0, 1]
    assert seen.unheld_checkpoints == (3, 7)
    holder = seen.holder_of(4)
    assert holder is not None
    assert holder.index == 0
    assert seen.holder_of(7) is None


def _as_read_after_a_clock_step(path: Path) -> None:
    """Make the start recorded in ``path`` one second earlier than a reader now computes it.

    That is what a reader sees after the wall clock was stepped forward across a second
    boundary: psutil's start time of a process is its clock ticks after boot plus
    ``/proc/stat``'s ``btime``, which Linux derives from the wall clock at each read and
    truncates to whole seconds, so it moves by a second for a step of a few milliseconds.
    """
    document = json.loads(path.read_bytes())
    document["started"] -= 1.0
    path.write_text(json.dumps(document))


def test_a_step_of_the_wall_clock_does_not_make_a_live_daemon_look_dead(
    daemon_home: Path,
) -> None:
    """Seen once in CI (``measure_recovery``): the chains were never seen held again, because
    no worker looked alive, and ``stop_daemon`` refused, the supervisor looking dead too."""
    state = start_daemon(daemon_home, 2, cwd=REPOSITORY)
    paths = DaemonPaths.of(daemon_home)
    written = {path: path.read_bytes() for path in [paths.state_file, *paths.worker_statuses()]}
    try:
        for path in written:
            _as_read_after_a_clock_step(path)
        alive = [worker.index for worker in live_workers(paths)]
        stopped = stop_daemon(daemon_home)
    finally:
        if supervisor_running(paths):  # let the fixture stop it
            for path, data in written.items():
                path.write_bytes(data)
    assert alive == [0, 1]
    assert stopped is not None
    assert stopped.os_pid == state.os_pid
