"""Exactly-once children under SIGKILL: work chains whose third step launches two children,
run by a daemon whose workers are killed at random moments (on PostgreSQL, with the checkpoints
and claims in the database: a killed worker's processes are taken over when its lease ends).

Counted, not just "it finished": the totals of an uninterrupted run, exactly two children per
chain, every process (parents and children) terminal, no checkpoint refused, and each step run
again only where the worker running it was killed.
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
from actors.assembly import LEASE_ENV
from actors.daemon import start_daemon
from actors.daemon.paths import DaemonPaths
from actors.daemon.status import live_workers
from provenance import Float, Int, ProcessNode, ProcessState, Str
from provenance.models import DbNode
from tests.actors.daemon.helpers import REPOSITORY, ended, stored, wait_for
from tests.actors.daemon.processes import Forked, marks_of

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

SEED = int(os.environ.get("WORKACTORS_FAULT_SEED", "20261202"))
CHAINS = 40
KILLS = 25
STEP_NAP = 0.02
TIMEOUT = 180.0


def _inputs(x: int, marks: Path, nap: float) -> dict[str, object]:
    return {"x": Int(x), "marks": Str(str(marks)), "nap": Float(nap)}


def _uninterrupted_totals(xs: list[int], folder: Path) -> dict[int, int]:
    folder.mkdir()
    with Runtime(folder / "home") as runtime:
        return {
            x: runtime.run(Forked, **_inputs(x, folder, 0.0))["total"].value  # type: ignore[arg-type]
            for x in xs
        }


def _ended(runtime: Runtime, *pids: int) -> bool:
    """True once every one of ``pids`` has its checkpoint retired: moved out of running/, or
    (checkpoints in the PostgreSQL database) no longer running there."""
    if not runtime.shared_database:
        return ended(runtime.home, *pids)
    store = runtime.checkpoints.store
    return all(
        not store.has_checkpoint(pid) and (stored(pid).process_state or _NOT).is_terminal
        for pid in pids
    )


_NOT = ProcessState.CREATED


def _refused(runtime: Runtime) -> list[str]:
    """The reasons of checkpoints refused on load (moved to failed/, or failed in the database
    for another reason than the process excepting)."""
    if not runtime.shared_database:
        return [path.read_text() for path in sorted(runtime.failed_directory.glob("*.reason.txt"))]
    with runtime.storage.read_session() as session:
        rows = session.execute(sa.text("SELECT reason FROM wa_checkpoint WHERE status = 'failed'"))
        return [str(reason) for (reason,) in rows]


def _open(runtime: Runtime, pids: list[int]) -> list[tuple[int, str | None]]:
    """The pids not ended yet, with their stored states (for the failure message)."""
    return [(pid, str(stored(pid).process_state)) for pid in pids if not _ended(runtime, pid)]


def _every_process_state(runtime: Runtime) -> dict[int, str]:
    """The stored state of every process node in the database, by pk."""
    query = sa.select(DbNode.id, DbNode.attributes["process_state"].as_string()).where(
        DbNode.node_type.startswith(ProcessNode.node_type)
    )
    with runtime.storage.read_session() as session:
        return {row[0]: row[1] for row in session.execute(query)}


def _kill_workers_at_random(runtime: Runtime, pids: list[int], rng: random.Random) -> set[int]:
    """SIGKILL one random live worker ``KILLS`` times while the chains run."""
    paths = DaemonPaths.of(runtime.home)
    moment = threading.Event()  # never set: its timed waits are the random moments
    killed: set[int] = set()
    kills = 0
    while kills < KILLS and not _ended(runtime, *pids):
        moment.wait(rng.uniform(0.02, 0.25))
        workers = live_workers(paths)
        if not workers:
            continue
        victim = rng.choice(workers)
        try:
            os.kill(victim.os_pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        killed.add(victim.os_pid)
        kills += 1
    return killed


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None for the embedded SQLite default, else a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return None
    request.applymarker(pytest.mark.postgres)
    url: str = request.getfixturevalue("postgres_url")
    return url


def test_chains_launching_children_keep_exactly_their_children_under_random_kills(
    daemon_home: Path,
    marks: Path,
    tmp_path: Path,
    database_url: str | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(LEASE_ENV, "2")  # a killed worker's claims are taken over in seconds
    rng = random.Random(SEED)
    xs = list(range(CHAINS))
    expected = _uninterrupted_totals(xs, tmp_path / "reference")
    start_daemon(daemon_home, 2, database_url=database_url, cwd=REPOSITORY)
    with Runtime(daemon_home, database_url=database_url) as runtime:
        by_x = {x: runtime.queue_up(Forked, _inputs(x, marks, STEP_NAP)) for x in xs}
        pids = list(by_x.values())
        killed = _kill_workers_at_random(runtime, pids, rng)
        try:
            wait_for(lambda: _ended(runtime, *pids), TIMEOUT, "the end of every chain")
        except AssertionError as exc:
            raise AssertionError(f"{exc} (seed {SEED}; open: {_open(runtime, pids)})") from exc
        children: list[int] = []
        for x, pid in by_x.items():
            node = stored(pid)
            assert node.process_state is ProcessState.FINISHED, (SEED, pid, node.exception)
            assert node.get_outputs_dict()["total"].value == expected[x], (SEED, pid)
            called = node.called
            assert len(called) == 2, (SEED, pid, [child.pk for child in called])
            children.extend(child.pk for child in called if child.pk is not None)
            steps = [step for step, _worker in marks_of(marks, pid)]
            assert sorted(set(steps)) == list(range(6)), (SEED, pid, steps)
            repeated = [step for step in set(steps) if steps.count(step) > 1]
            assert len(repeated) <= len(killed), (SEED, pid, steps)
        wait_for(lambda: _ended(runtime, *children), TIMEOUT, "the end of every child")
        for child in children:
            node = stored(child)
            assert isinstance(node, ProcessNode)
            assert node.process_state is ProcessState.FINISHED, (SEED, child, node.exception)
            assert len(node.get_outputs_dict()) == 1, (SEED, child)
        assert _refused(runtime) == [], SEED
        states = _every_process_state(runtime)
        assert len(states) == CHAINS * 3, (SEED, len(states))  # no orphan, no duplicate
        assert set(states.values()) == {ProcessState.FINISHED.value}, (SEED, states)
    assert killed, SEED
