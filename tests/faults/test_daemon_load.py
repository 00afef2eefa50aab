"""Load: a daemon of two workers given 2,000 submitted work chains (each awaiting two children)
runs every one to its end, and no worker's threads grow with the number it holds."""

from __future__ import annotations

import threading
from pathlib import Path

import psutil
import pytest
import sqlalchemy as sa

from actors import Runtime
from actors.daemon import start_daemon
from actors.daemon.paths import DaemonPaths
from actors.daemon.status import live_workers
from provenance import Int, ProcessNode
from provenance.models import DbNode
from tests.actors.daemon.helpers import REPOSITORY, ended, wait_for
from tests.actors.workchains import FanOut

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

CHAINS = 2_000
CHILDREN = 2
#: Threads a worker may use whatever it holds: its actors' pool (48 busy at most before
#: launches and adoption wait) plus the runtime's own actors and helpers.
THREAD_LIMIT = 120
TIMEOUT = 600.0
SAMPLE_EVERY = 0.05


class ThreadSampler:
    """Samples the thread count of every live worker until stopped; keeps each one's peak."""

    def __init__(self, home: Path) -> None:
        self._paths = DaemonPaths.of(home)
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ThreadSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY):
            for worker in live_workers(self._paths):
                try:
                    threads = psutil.Process(worker.os_pid).num_threads()
                except psutil.Error:
                    continue
                self.peaks[worker.os_pid] = max(self.peaks.get(worker.os_pid, 0), threads)


def test_two_workers_run_two_thousand_chains_with_bounded_threads(daemon_home: Path) -> None:
    with Runtime(daemon_home) as runtime:
        pids = [runtime.queue_up(FanOut, {"n": Int(CHILDREN)}) for _ in range(CHAINS)]
        with ThreadSampler(daemon_home) as sampler:
            start_daemon(daemon_home, 2, cwd=REPOSITORY)
            wait_for(lambda: ended(daemon_home, *pids), TIMEOUT, "the end of every chain")
        query = (
            sa.select(DbNode.attributes["process_state"].as_string(), sa.func.count())
            .where(DbNode.node_type.startswith(ProcessNode.node_type))
            .group_by(DbNode.attributes["process_state"].as_string())
        )
        with runtime.storage.read_session() as session:
            states = {row[0]: row[1] for row in session.execute(query)}
        failed = sorted(runtime.failed_directory.glob("*.reason.txt"))
    assert states == {"finished": CHAINS * (1 + CHILDREN)}, states
    assert not failed, [path.read_text() for path in failed[:5]]
    assert len(sampler.peaks) >= 2, sampler.peaks
    assert max(sampler.peaks.values()) <= THREAD_LIMIT, sampler.peaks
