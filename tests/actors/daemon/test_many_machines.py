"""Many machines on one PostgreSQL database: daemons with homes of their own (no shared files but
the signing key) share the queue, the claims and the checkpoints in the database.

Each "machine" is a real daemon (supervisor and worker OS processes) on its own home. Steps
leave marks (``tests.actors.daemon.processes``): a test counts how often each step ran and on
which worker, and the provenance database says how many children each chain called.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from actors import Runtime
from actors.assembly import KEY_FILE_ENV, LEASE_ENV
from actors.control import Action
from actors.daemon import ControlError, Route, start_daemon
from actors.daemon.manage import stop_daemon
from actors.daemon.paths import DaemonPaths
from actors.daemon.remote import request_shared
from actors.daemon.status import DaemonState, live_workers
from persistence.leases import workers_of
from persistence.pg_connection import channel_of
from persistence.postgres_store import PostgresStore
from provenance import Float, Int, ProcessNode, ProcessState, Str
from provenance.models import DbLink
from tests.actors.daemon.helpers import REPOSITORY, is_paused, wait_for
from tests.actors.daemon.processes import Forked, marks_of

pytestmark = pytest.mark.slow

LEASE = 2.0
TIMEOUT = 180.0


@dataclass
class Machines:
    """Daemons on homes of their own and one database, and a runtime to submit with."""

    url: str
    homes: list[Path]
    marks: Path
    runtime: Runtime

    def worker_pids(self, home: Path) -> set[int]:
        return {worker.os_pid for worker in live_workers(DaemonPaths.of(home))}

    def submit(self, count: int, nap: float) -> list[int]:
        return [
            self.runtime.queue_up(
                Forked, {"x": Int(x), "marks": Str(str(self.marks)), "nap": Float(nap)}
            )
            for x in range(count)
        ]

    def state(self, pid: int) -> ProcessState | None:
        node = self.runtime.load_node(pid)
        assert isinstance(node, ProcessNode)
        return node.process_state

    def exception(self, pid: int) -> str | None:
        node = self.runtime.load_node(pid)
        assert isinstance(node, ProcessNode)
        return node.exception

    def all_ended(self, pids: list[int]) -> bool:
        return all((state := self.state(pid)) is not None and state.is_terminal for pid in pids)

    def children(self, pid: int) -> int:
        with self.runtime.storage.read_session() as session:
            query = sa.select(sa.func.count()).where(
                DbLink.input_id == pid, DbLink.link_type.startswith("call")
            )
            return int(session.execute(query).scalar_one())

    def total(self, pid: int) -> int:
        node = self.runtime.load_node(pid)
        assert isinstance(node, ProcessNode)
        value = node.get_outputs_dict()["total"].value
        assert isinstance(value, int)
        return value


@pytest.fixture
def machines(
    tmp_path: Path, shared_database: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Machines]:
    key_file = tmp_path / "shared.key"
    key_file.write_bytes(secrets.token_bytes(64))  # "32+ random bytes": longer keys work too
    key_file.chmod(0o600)
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    monkeypatch.setenv(LEASE_ENV, str(LEASE))
    marks = tmp_path / "marks"
    marks.mkdir()
    homes = [tmp_path / f"machine-{index}" for index in range(3)]
    started: list[Path] = []
    try:
        with Runtime(tmp_path / "submitter", database_url=shared_database) as runtime:
            yield Machines(shared_database, homes, marks, runtime)
            started = [home for home in homes if DaemonPaths.of(home).folder.exists()]
    finally:
        for home in started or homes:
            _stop(home)


def _start(machines: Machines, home: Path, workers: int) -> None:
    start_daemon(home, workers, database_url=machines.url, cwd=REPOSITORY)


def _stop(home: Path) -> None:
    paths = DaemonPaths.of(home)
    if not paths.folder.exists():
        return
    try:
        stop_daemon(home, timeout=60)
    except Exception:  # a daemon a test killed: make sure nothing of it is left
        for worker in live_workers(paths):
            _kill(worker.os_pid)


def _kill(os_pid: int, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(os_pid, sig)


def _expected_totals(xs: range, folder: Path) -> dict[int, int]:
    """The totals of the same chains run blockingly on SQLite, with nothing shared or killed."""
    folder.mkdir()
    with Runtime(folder / "home") as runtime:
        inputs = {"marks": Str(str(folder)), "nap": Float(0.0)}
        return {x: runtime.run(Forked, x=Int(x), **inputs)["total"].value for x in xs}  # type: ignore[arg-type]


def test_three_machines_finish_chains_with_children_exactly_once(
    machines: Machines, tmp_path: Path
) -> None:
    chains = 45
    for home in machines.homes:
        _start(machines, home, 1)
    listed = workers_of(machines.url)
    assert sorted(worker["home"] for worker in listed) == [str(h) for h in machines.homes]
    pids = machines.submit(chains, nap=0.02)
    wait_for(lambda: machines.all_ended(pids), TIMEOUT, f"the end of {chains} chains")
    expected = _expected_totals(range(chains), tmp_path / "alone")
    ran_on: set[int] = set()
    for x, pid in enumerate(pids):
        assert machines.state(pid) is ProcessState.FINISHED, machines.exception(pid)
        assert machines.total(pid) == expected[x]
        assert machines.children(pid) == 2
        marks = marks_of(machines.marks, pid)
        assert sorted(index for index, _ in marks) == list(range(6)), marks  # each step once
        ran_on.update(os_pid for _, os_pid in marks)
    every_machine = [machines.worker_pids(home) for home in machines.homes]
    assert all(ran_on & workers for workers in every_machine), (ran_on, every_machine)


@pytest.mark.timeout(300)
def test_a_machine_killed_mid_run_is_taken_over_within_the_lease(
    machines: Machines, tmp_path: Path
) -> None:
    victim, survivor = machines.homes[0], machines.homes[1]
    _start(machines, victim, 2)
    _start(machines, survivor, 1)
    doomed = machines.worker_pids(victim)
    rescued = machines.worker_pids(survivor)
    pids = machines.submit(12, nap=0.4)

    def begun_on_victim() -> list[int]:
        begun = []
        for pid in pids:
            marks = marks_of(machines.marks, pid)
            if len(marks) < 4 and any(os_pid in doomed for _, os_pid in marks):
                begun.append(pid)
        return begun

    interrupted = wait_for(begun_on_victim, TIMEOUT, "chains begun on the victim")
    supervisor = DaemonState.read(DaemonPaths.of(victim))
    killed_at = time.monotonic()
    if supervisor is not None:
        _kill(supervisor.os_pid)  # the machine is gone: nobody restarts its workers
    for os_pid in doomed:
        _kill(os_pid)

    def first_rescue() -> bool:
        return any(
            os_pid in rescued for pid in interrupted for _, os_pid in marks_of(machines.marks, pid)
        )

    wait_for(first_rescue, TIMEOUT, "a step of the victim's chains run by the other machine")
    takeover = time.monotonic() - killed_at
    wait_for(lambda: machines.all_ended(pids), TIMEOUT, "the end of every chain")
    expected = _expected_totals(range(len(pids)), tmp_path / "alone")
    for x, pid in enumerate(pids):
        assert machines.state(pid) is ProcessState.FINISHED, machines.exception(pid)
        assert machines.total(pid) == expected[x]
        assert machines.children(pid) == 2
        marks = marks_of(machines.marks, pid)
        steps = [index for index, _ in marks]
        assert sorted(set(steps)) == list(range(6))
        # A step runs again only if the kill cut it off: its earlier run was on the victim.
        for index in set(steps):
            runs = [os_pid for step, os_pid in marks if step == index]
            assert len(runs) <= 2, marks
            if len(runs) == 2:
                assert runs[0] in doomed, marks
                assert runs[1] in rescued, marks
    # Kill, lease run out (at most one lease), found at the next look (half a lease), plus the
    # time a loaded machine takes to load the checkpoint and start a step.
    assert takeover < 2 * LEASE + 1.0, takeover


@pytest.mark.timeout(300)
def test_a_worker_stopped_past_its_lease_has_every_later_write_refused(
    machines: Machines, tmp_path: Path
) -> None:
    stale_home, fresh_home = machines.homes[0], machines.homes[1]
    _start(machines, stale_home, 1)
    (pid,) = machines.submit(1, nap=0.4)
    (stale,) = machines.worker_pids(stale_home)
    wait_for(lambda: len(marks_of(machines.marks, pid)) >= 2, TIMEOUT, "two steps run")
    os.kill(stale, signal.SIGSTOP)
    try:
        _start(machines, fresh_home, 1)
        (fresh,) = machines.worker_pids(fresh_home)
        wait_for(lambda: machines.all_ended([pid]), TIMEOUT, "the end, on the other machine")
        assert any(os_pid == fresh for _, os_pid in marks_of(machines.marks, pid))
    finally:
        os.kill(stale, signal.SIGCONT)
    log = DaemonPaths.of(stale_home).worker_log(0)
    wait_for(
        lambda: "lease_lost" in log.read_text() or "claim_lost" in log.read_text(),
        TIMEOUT,
        "the stopped worker noticing it lost its claim",
    )
    # The stale worker wrote nothing after the takeover: one end, the right total, each child
    # called once, and no step of it after the other machine's first.
    expected = _expected_totals(range(1), tmp_path / "alone")
    assert machines.state(pid) is ProcessState.FINISHED
    assert machines.total(pid) == expected[0]
    assert machines.children(pid) == 2
    marks = marks_of(machines.marks, pid)
    first_fresh = next(i for i, (_, os_pid) in enumerate(marks) if os_pid == fresh)
    # The step it was in when stopped finishes its nap when it wakes, but its mark was made
    # before: nothing it did after waking reached the chain.
    assert [mark for mark in marks[first_fresh:] if mark[1] == stale] == [], marks


def test_pause_and_play_reach_a_process_wherever_it_is(machines: Machines) -> None:
    store = machines.runtime.checkpoints.store
    assert isinstance(store, PostgresStore)
    channel = channel_of(machines.url)
    (pid,) = machines.submit(1, nap=0.3)
    # Nobody holds it yet: kept as an intent for whoever claims it.
    assert request_shared(store, channel, pid, Action.PAUSE).route is Route.RECORDED
    _start(machines, machines.homes[0], 1)
    wait_for(lambda: is_paused(machines.runtime, pid), TIMEOUT, "the process adopted paused")
    assert marks_of(machines.marks, pid) == []
    # Now a worker of some machine holds it: the request goes to it by NOTIFY.
    assert request_shared(store, channel, pid, Action.PLAY).route is Route.SENT
    wait_for(lambda: machines.all_ended([pid]), TIMEOUT, "the end after play")
    assert machines.state(pid) is ProcessState.FINISHED
    with pytest.raises(ControlError, match="no running checkpoint in the database"):
        request_shared(store, channel, pid, Action.KILL)


#: A shell command that restarts the server of ``WORKACTORS_TEST_POSTGRES_URL`` and the host
#: and port to wait on, for a private cluster: restarting the shared one breaks others' tests.
RESTART_CMD_ENV = "WORKACTORS_TEST_PG_RESTART_CMD"
READY_HOST_ENV = "WORKACTORS_TEST_PG_READY_HOST"
READY_PORT_ENV = "WORKACTORS_TEST_PG_READY_PORT"


def _restart_postgresql() -> None:
    """Restart the local PostgreSQL cluster (as .ci/run starts it) and wait until it answers.

    ``WORKACTORS_TEST_PG_RESTART_CMD`` (with ``..._READY_HOST``/``..._READY_PORT``) restarts
    another cluster instead, e.g. a private one a reproduction loop runs against.
    """
    command = os.environ.get(RESTART_CMD_ENV)
    if command:
        subprocess.run(command, shell=True, check=True, timeout=120)
    else:
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
            check=True,
            timeout=120,
        )
    host = os.environ.get(READY_HOST_ENV, "127.0.0.1")
    port = os.environ.get(READY_PORT_ENV, "5432")
    wait_for(
        lambda: (
            subprocess.run(["pg_isready", "-q", "-h", host, "-p", port], check=False).returncode
            == 0
        ),
        120,
        "PostgreSQL answering again",
    )


@pytest.mark.timeout(600)
def test_chains_finish_across_a_restart_of_postgresql(machines: Machines, tmp_path: Path) -> None:
    """Run last and once: it restarts the server every test here uses."""
    _start(machines, machines.homes[0], 2)
    _start(machines, machines.homes[1], 1)
    pids = machines.submit(10, nap=0.2)
    wait_for(
        lambda: sum(len(marks_of(machines.marks, pid)) for pid in pids) >= 10,
        TIMEOUT,
        "ten steps run",
    )
    _restart_postgresql()

    def ended() -> bool:
        try:
            return machines.all_ended(pids)
        except sa.exc.OperationalError:  # our own connections broke too; the pool recovers
            return False

    wait_for(ended, TIMEOUT, "the end of every chain after the restart")
    expected = _expected_totals(range(len(pids)), tmp_path / "alone")
    for x, pid in enumerate(pids):
        assert machines.state(pid) is ProcessState.FINISHED, machines.exception(pid)
        assert machines.total(pid) == expected[x]
        assert machines.children(pid) == 2
        assert sorted({index for index, _ in marks_of(machines.marks, pid)}) == list(range(6))
