"""Restart loops and retried processes under SIGKILL: BaseRestartWorkChains whose child fails
twice before it succeeds, and ``spec.retry`` processes failing three times, run by a daemon
whose workers are killed at random moments.

Counted: every chain finishes with the result of its third attempt; each chain has exactly
three children, attempts 1, 2 and 3 (none lost, none launched twice), and the database holds no
other process.
"""

from __future__ import annotations

import os
import random
import signal
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from actors import Runtime
from actors.daemon import start_daemon
from actors.daemon.paths import DaemonPaths
from actors.daemon.status import live_workers
from provenance import ProcessNode, ProcessState
from provenance.models import DbNode
from tests.actors.daemon.helpers import REPOSITORY, ended, stored, wait_for
from tests.actors.daemon.processes import marks_of
from tests.actors.toolkit_processes import RestartSlowFlaky, Shaky

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

SEED = int(os.environ.get("WORKACTORS_FAULT_SEED", "20261213"))
CHAINS = 12
KILLS = 8
NAP = 0.05
TIMEOUT = 180.0


def _kill_workers_at_random(home: Path, pids: list[int], rng: random.Random) -> set[int]:
    """SIGKILL one random live worker ``KILLS`` times while the chains run."""
    paths = DaemonPaths.of(home)
    moment = threading.Event()  # never set: its timed waits are the random moments
    killed: set[int] = set()
    while len(killed) < KILLS and not ended(home, *pids):
        moment.wait(rng.uniform(0.05, 0.3))
        workers = live_workers(paths)
        if not workers:
            continue
        victim = rng.choice(workers)
        try:
            os.kill(victim.os_pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        killed.add(victim.os_pid)
    return killed


def _process_count(runtime: Runtime) -> int:
    query = sa.select(sa.func.count(DbNode.id)).where(
        DbNode.node_type.startswith(ProcessNode.node_type)
    )
    with runtime.storage.read_session() as session:
        return int(session.execute(query).scalar_one())


def test_restart_loops_lose_and_double_no_attempt_under_random_kills(
    daemon_home: Path, marks: Path
) -> None:
    rng = random.Random(SEED)
    start_daemon(daemon_home, 2, cwd=REPOSITORY)
    with Runtime(daemon_home) as runtime:
        pids = [
            runtime.queue_up(
                RestartSlowFlaky,
                {"flaky": {"attempt": 1, "succeed_at": 3, "marks": str(marks), "nap": NAP}},
            )
            for _ in range(CHAINS)
        ]
        killed = _kill_workers_at_random(daemon_home, pids, rng)
        wait_for(lambda: ended(daemon_home, *pids), TIMEOUT, f"the end of every chain ({SEED})")
        for pid in pids:
            node = stored(pid)
            assert node.process_state is ProcessState.FINISHED, (SEED, pid, node.exception)
            assert node.exit_status == 0, (SEED, pid, node.exit_message)
            assert node.get_outputs_dict()["result"].value == 300, (SEED, pid)
            children = sorted(node.called, key=lambda child: child.pk or 0)
            attempts = [child.get_inputs_dict()["attempt"].value for child in children]
            assert attempts == [1, 2, 3], (SEED, pid, attempts)
            assert [child.exit_status for child in children] == [300, 300, 0], (SEED, pid)
        assert _process_count(runtime) == CHAINS * 4, SEED  # no orphan attempt
    assert killed, SEED


def test_retried_processes_never_run_a_recorded_attempt_again_under_random_kills(
    daemon_home: Path, marks: Path
) -> None:
    rng = random.Random(SEED + 1)
    start_daemon(daemon_home, 2, cwd=REPOSITORY)
    with Runtime(daemon_home) as runtime:
        pids = [
            runtime.queue_up(Shaky, {"succeed_at": 4, "marks": str(marks), "nap": NAP})
            for _ in range(CHAINS)
        ]
        killed = _kill_workers_at_random(daemon_home, pids, rng)
        wait_for(lambda: ended(daemon_home, *pids), TIMEOUT, f"the end of every process ({SEED})")
        for pid in pids:
            node = stored(pid)
            assert node.process_state is ProcessState.FINISHED, (SEED, pid, node.exception)
            assert node.get_outputs_dict()["attempts"].value == 4, (SEED, pid)
            attempts = [attempt for attempt, _worker in marks_of(marks, pid)]
            # Only the attempt a kill cut off runs again; a failure recorded is never re-run.
            assert attempts == sorted(attempts), (SEED, pid, attempts)
            assert sorted(set(attempts)) == [1, 2, 3, 4], (SEED, pid, attempts)
            assert len(attempts) - 4 <= len(killed), (SEED, pid, attempts)
    assert killed, SEED
