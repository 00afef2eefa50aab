"""SIGKILL at every point between a step's provenance commit and its checkpoint, and just after.

For each stage of a checkpoint write (see ``tests.faults.kill_points``) and each n, a real OS
process runs a ``Forked`` chain (six steps; the third launches two children) and kills itself
at the n-th write, at that stage; then another runtime opens the home, adopts what was left and
runs it to the end. n grows until the program finishes before the n-th write, so every write of
the run is a kill point. Each case is counted against an uninterrupted run: the chain's total,
exactly two children each with one output, every process terminal, nothing left in running/, no
checkpoint refused, and a step run twice only where it was cut off.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from actors import Runtime
from actors.assembly import STORE_ENV
from provenance import Int, ProcessNode, ProcessState, Str
from tests.actors.daemon.helpers import REPOSITORY
from tests.actors.daemon.processes import Forked, marks_of
from tests.faults.kill_points import STAGES
from tests.helpers import postgres_schema

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

X = 5
TIMEOUT = 60.0
#: More writes than an uninterrupted run makes: a safety stop if the program never finishes.
MOST_WRITES = 60


def _uninterrupted_total(folder: Path) -> int:
    folder.mkdir()
    with Runtime(folder / "home") as runtime:
        result = runtime.run(Forked, x=Int(X), marks=Str(str(folder)))
    total: int = result["total"].value
    return total


def _run_until_killed(home: Path, marks: Path, stage: str, nth: int, url: str | None) -> int | None:
    """Run the program; None if it was killed, else how many writes it made."""
    program = [sys.executable, "-m", "tests.faults.kill_points"]
    done = subprocess.run(
        [*program, home, marks, str(X), stage, str(nth), *([url] if url else [])],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if done.returncode == -signal.SIGKILL:
        return None
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def _recover_and_check(home: Path, marks: Path, url: str | None, expected: int, case: str) -> None:
    """Adopt what the killed program left and run it out; then count everything."""
    with Runtime(home, database_url=url, durable=True) as runtime:
        for pid in runtime.adopt_checkpoints():
            assert runtime.wait(pid, TIMEOUT), (case, pid)
        processes = [_process(runtime, pk) for pk in _process_pks(runtime)]
        (parent,) = [node for node in processes if node.process_label == Forked.__name__]
        states = {node.pk: node.process_state for node in processes}
        if parent.process_state is ProcessState.KILLED:
            # Cut off before its first checkpoint: nothing to resume, ended at the next open.
            assert parent.pk in runtime.repaired, (case, parent.exception)
            assert parent.called == [], case
            return
        assert parent.process_state is ProcessState.FINISHED, (case, parent.exception)
        assert parent.get_outputs_dict()["total"].value == expected, case
        children = parent.called
        assert len(children) == 2, (case, [child.pk for child in children])
        assert len(processes) == 3, (case, sorted(states))  # no orphan, no duplicate
        for child in children:
            assert child.process_state is ProcessState.FINISHED, (case, child.exception)
            assert _data_outputs(child) == ["y"], case
        assert _data_outputs(parent) == ["total"], case
        assert set(states.values()) == {ProcessState.FINISHED}, (case, states)
        steps = [step for step, _os_pid in marks_of(marks, parent.pk or 0)]
        assert sorted(set(steps)) == list(range(6)), (case, steps)
        assert len(steps) - 6 <= 1, (case, steps)  # only the step cut off ran again
        assert list(runtime.running_directory.glob("*.pickle")) == [], case
        refused = sorted(runtime.failed_directory.glob("*.reason.txt"))
        assert refused == [], (case, [path.read_text() for path in refused])


def _data_outputs(node: ProcessNode) -> list[str]:
    """The labels of the data a process output, once per link (a repeat would show twice)."""
    return sorted(
        label
        for label, output in node._links(incoming=False, link_type=None)
        if not isinstance(output, ProcessNode)
    )


def _process(runtime: Runtime, pk: int) -> ProcessNode:
    node = runtime.load_node(pk)
    assert isinstance(node, ProcessNode)
    return node


def _process_pks(runtime: Runtime) -> list[int]:
    import sqlalchemy as sa

    from provenance.models import DbNode

    query = sa.select(DbNode.id).where(DbNode.node_type.startswith(ProcessNode.node_type))
    with runtime.storage.read_session() as session:
        return sorted(session.scalars(query))


@contextmanager
def _database(backend: str) -> Iterator[str | None]:
    """None for the embedded SQLite default, else the URL of a fresh PostgreSQL schema."""
    if backend == "sqlite":
        yield None
    else:
        with postgres_schema() as url:
            yield url


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
@pytest.mark.parametrize("stage", STAGES)
def test_a_kill_at_any_checkpoint_write_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, stage: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The kill points are those of the file store's writes, on either provenance database
    # (PostgreSQL would otherwise keep checkpoints in the database: tests/actors/daemon/
    # test_many_machines.py kills workers of that store).
    monkeypatch.setenv(STORE_ENV, "files")
    expected = _uninterrupted_total(tmp_path / "reference")
    for nth in range(1, MOST_WRITES):
        case = f"{backend}: {stage} of write {nth}"
        home, marks = tmp_path / f"home-{nth}", tmp_path / f"marks-{nth}"
        marks.mkdir()
        with _database(backend) as url:
            writes = _run_until_killed(home, marks, stage, nth, url)
            _recover_and_check(home, marks, url, expected, case)
        if writes is not None:
            # It finished before the n-th write: every write of the run was a kill point (a
            # chain and two children write at least ten checkpoints).
            assert nth > writes >= 10, (case, writes)
            return
    raise AssertionError(f"the program still died at write {MOST_WRITES}")
