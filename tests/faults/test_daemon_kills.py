"""Fault tests with real OS processes: daemon workers killed with SIGKILL at random moments,
and the same checkpoints offered to several workers at once.

Select them with ``-m slow``. They are seeded: a failure names its seed, and
``WORKACTORS_FAULT_SEED`` replays it.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import threading
from pathlib import Path

import pytest

from actors import Runtime
from actors.daemon import start_daemon
from actors.daemon.manage import wait_stopped
from actors.daemon.paths import DaemonPaths
from actors.daemon.status import DaemonState, live_workers
from provenance import Float, Int, ProcessState, Str
from tests.actors.daemon.helpers import REPOSITORY, ended, stored, wait_for
from tests.actors.daemon.processes import Marked, marks_of

pytestmark = pytest.mark.slow

SEED = int(os.environ.get("WORKACTORS_FAULT_SEED", "20261125"))
ROUNDS = 6
CHAINS_PER_ROUND = 10
MAX_KILLS_PER_ROUND = 4
#: The round in which the supervisor dies too, and ``start`` brings the daemon back.
SUPERVISOR_ROUND = 3
STEP_NAP = 0.05
CHILD_AT = 5
TIMEOUT = 120.0


def _inputs(x: int, marks: Path, nap: float) -> dict[str, object]:
    return {"x": Int(x), "marks": Str(str(marks)), "nap": Float(nap), "child_at": Int(CHILD_AT)}


def _uninterrupted_totals(xs: list[int], folder: Path) -> dict[int, int]:
    """The totals of the same chains run blockingly, with nothing killed."""
    folder.mkdir()
    with Runtime(folder / "home") as runtime:
        return {
            x: runtime.run(Marked, **_inputs(x, folder, 0.0))["total"].value  # type: ignore[arg-type]
            for x in xs
        }


def _kill_at_random_moments(  # noqa: PLR0917 - a test helper read at its one call
    home: Path,
    marks: Path,
    pids: list[int],
    rng: random.Random,
    killed: set[int],
    whole_daemon: bool,
) -> int:
    """SIGKILL workers (sometimes all, once the supervisor too) while ``pids`` run."""
    paths = DaemonPaths.of(home)
    moment = threading.Event()  # never set: waits are the random moments themselves
    kills = 0
    while kills < MAX_KILLS_PER_ROUND and not ended(home, *pids):
        if kills == 0:
            # The first kill at a random point of the round's progress, so every round has one.
            progress = rng.randint(1, CHAINS_PER_ROUND * 7)
            wait_for(
                lambda progress=progress: (
                    sum(len(marks_of(marks, pid)) for pid in pids) >= progress or ended(home, *pids)
                ),
                TIMEOUT,
                f"{progress} steps of the round",
            )
        else:
            moment.wait(rng.uniform(0.05, 0.6))
        workers = live_workers(paths)
        if not workers or ended(home, *pids):
            continue
        if whole_daemon and kills == 0:
            # The whole daemon at once, as a crash of the machine's session would: the
            # supervisor's process group holds it and every worker it started.
            state = DaemonState.read(paths)
            assert state is not None
            os.killpg(state.os_pid, signal.SIGKILL)
            killed.update(worker.os_pid for worker in workers)
            kills += 1
            wait_for(lambda: not live_workers(paths), TIMEOUT, "the end of the dead daemon")
            wait_stopped(paths, TIMEOUT)
            start_daemon(home, 2, cwd=REPOSITORY)
            continue
        victims = workers if rng.random() < 0.25 else [rng.choice(workers)]
        for worker in victims:
            os.kill(worker.os_pid, signal.SIGKILL)
            killed.add(worker.os_pid)
        kills += 1
    return kills


def _check_marks(marks: Path, pid: int, killed: set[int]) -> None:
    """Steps ran in order; a step ran again only where the worker running it was killed."""
    steps = marks_of(marks, pid)
    assert steps, f"process {pid} left no marks"
    assert steps[0][0] == 0
    for (before, worker), (after, _next_worker) in itertools.pairwise(steps):
        assert after in (before, before + 1), f"process {pid} jumped: {steps}"
        if after == before:
            assert worker in killed, f"process {pid} ran step {before} twice uncut: {steps}"
    assert steps[-1][0] == 9


def test_workers_killed_at_random_moments_lose_no_work_and_repeat_only_cut_steps(
    daemon_home: Path, marks: Path, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    xs = [round_ * 100 + index for round_ in range(ROUNDS) for index in range(CHAINS_PER_ROUND)]
    expected = _uninterrupted_totals(xs, tmp_path / "reference")
    killed: set[int] = set()
    kills_per_round: list[int] = []
    start_daemon(daemon_home, 2, cwd=REPOSITORY)
    with Runtime(daemon_home) as runtime:
        by_x: dict[int, int] = {}
        for round_ in range(ROUNDS):
            batch = xs[round_ * CHAINS_PER_ROUND : (round_ + 1) * CHAINS_PER_ROUND]
            pids = [runtime.queue_up(Marked, _inputs(x, marks, STEP_NAP)) for x in batch]
            by_x.update(zip(batch, pids, strict=True))
            kills = _kill_at_random_moments(
                daemon_home, marks, pids, rng, killed, whole_daemon=round_ == SUPERVISOR_ROUND
            )
            kills_per_round.append(kills)
            wait_for(lambda pids=pids: ended(daemon_home, *pids), TIMEOUT, f"round {round_}")
        for x, pid in by_x.items():
            node = stored(pid)
            assert node.process_state is ProcessState.FINISHED, (SEED, pid, node.exception)
            assert node.get_outputs_dict()["total"].value == expected[x], (SEED, pid)
            _check_marks(marks, pid, killed)
    assert all(kills >= 1 for kills in kills_per_round), (SEED, kills_per_round)
    assert len(xs) >= 50


def test_each_process_offered_to_several_workers_at_once_runs_in_exactly_one(
    daemon_home: Path, marks: Path
) -> None:
    with Runtime(daemon_home) as runtime:
        # Queued before the workers exist: all four adopt at the same moment when they start.
        early = [
            runtime.queue_up(Marked, {"x": Int(x), "marks": Str(str(marks))}) for x in range(40)
        ]
        start_daemon(daemon_home, 4, cwd=REPOSITORY)
        # Queued while they run: every submission wakes all four at once.
        late = [
            runtime.queue_up(Marked, {"x": Int(x), "marks": Str(str(marks))}) for x in range(40, 80)
        ]
        pids = early + late
        wait_for(lambda: ended(daemon_home, *pids), TIMEOUT, "the end of every chain")
        runners: set[int] = set()
        for pid in pids:
            steps = marks_of(marks, pid)
            assert [step for step, _worker in steps] == list(range(10)), (pid, steps)
            assert len({worker for _step, worker in steps}) == 1, (pid, steps)
            runners.add(steps[0][1])
            assert stored(pid).process_state is ProcessState.FINISHED
            assert not (runtime.failed_directory / f"{pid}.pickle").exists()
    assert len(runners) > 1  # the work was in fact shared
