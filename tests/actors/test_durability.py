"""Durability as a policy: ``Ephemeral``, or ``Checkpointed`` into any ``CheckpointStore``.

The in-memory store runs the same durable engine as the file store: checkpoints after every
step, a worker that stops mid-way leaves its processes to another, submissions wake whoever
the injected notifier names.
"""

from __future__ import annotations

import ast
import threading
import uuid
from pathlib import Path

from actors import Checkpointed, Ephemeral, ProcessState, Runtime
from persistence import InMemoryStore, MemoryCheckpoints, PicklePersistence
from provenance import Int, ProcessNode, Str, load_node
from tests.actors.daemon.helpers import wait_for
from tests.actors.workchains import FanOut, Loop, TenSteps, hold

TIMEOUT = 10.0
ACTORS = Path(__file__).resolve().parents[2] / "actors"


class Recorder:
    """A notifier that remembers what was submitted and can wait for it."""

    def __init__(self) -> None:
        self.pids: list[int] = []
        self.arrived = threading.Event()

    def submitted(self, pid: int) -> None:
        self.pids.append(pid)
        self.arrived.set()


def test_a_runtime_is_ephemeral_unless_asked_to_checkpoint(home: Path) -> None:
    with Runtime(home) as plain:
        assert plain.durability == Ephemeral()
        assert not plain.durable
    with Runtime(home, durable=True) as worker:
        assert worker.durability == Checkpointed()
        assert isinstance(worker.checkpoints.store, PicklePersistence)


def test_a_work_chain_checkpointed_in_memory_writes_no_file_and_retires_at_the_end(
    home: Path,
) -> None:
    store = InMemoryStore()
    with Runtime(home, durability=Checkpointed(store)) as worker:
        result, node = worker.run_get_node(FanOut, n=Int(3))
        assert result["values"].value == [0, 2, 4]
        assert node.process_state is ProcessState.FINISHED
        children = node.called
        assert len(children) == 3
        # The parent and its three children all went through the store and left it finished.
        assert sorted(store.shared.finished) == sorted([node.pk, *(c.pk for c in children)])
        assert store.shared.running == {}
        assert store.held_pids == frozenset()
    assert list((home / "running").glob("*.pickle")) == []


def test_a_worker_stopped_mid_way_leaves_its_process_to_another_sharing_the_memory(
    home: Path,
) -> None:
    shared = MemoryCheckpoints()
    tag = uuid.uuid4().hex
    reached, release = hold(tag)
    first = Runtime(home, durability=Checkpointed(InMemoryStore(shared)))
    process, _done = first.launch(TenSteps, {"tag": Str(tag), "stop_at": Int(5)})
    pid = process.pid
    assert pid is not None
    assert reached.wait(TIMEOUT)
    stopping = threading.Thread(target=first.shutdown)
    stopping.start()  # asks the actor to stop after the step in progress
    wait_for(lambda: first.is_closed, TIMEOUT, "the shutdown to begin")
    release.set()
    stopping.join(TIMEOUT)
    assert list(shared.running) == [pid]
    assert shared.holders == {}

    with Runtime(home, durability=Checkpointed(InMemoryStore(shared))) as second:
        assert second.adopt_checkpoints() == [pid]
        assert second.wait(pid, TIMEOUT)
        node = load_node(pid)
        assert isinstance(node, ProcessNode)
        assert node.process_state is ProcessState.FINISHED
        # Each of the ten steps ran exactly once across the two workers.
        assert node.get_outputs_dict()["trace"].value == list(range(1, 11))
        assert second.adopt_checkpoints() == []


def test_a_process_paused_when_its_worker_stopped_is_adopted_paused(home: Path) -> None:
    """Found by a user review: a paused process resumed running after a daemon restart (only
    control intents were read at adoption, not the pause recorded on its node)."""
    shared = MemoryCheckpoints()
    tag = uuid.uuid4().hex
    reached, release = hold(tag)
    first = Runtime(home, durability=Checkpointed(InMemoryStore(shared)))
    process, _done = first.launch(TenSteps, {"tag": Str(tag), "stop_at": Int(5)})
    pid = process.pid
    assert pid is not None
    assert reached.wait(TIMEOUT)
    assert first.pause(pid)
    release.set()
    wait_for(lambda: load_node(pid).attributes.get("paused") is True, TIMEOUT, "the pause")
    first.shutdown()
    assert list(shared.running) == [pid]

    with Runtime(home, durability=Checkpointed(InMemoryStore(shared))) as second:
        assert second.adopt_checkpoints() == [pid]
        assert not second.wait(pid, 1.0)  # adopted paused: no step runs
        node = load_node(pid)
        assert isinstance(node, ProcessNode)
        assert node.attributes.get("paused") is True
        assert not node.process_state.is_terminal
        assert second.play(pid)
        assert second.wait(pid, TIMEOUT)
        ended = load_node(pid)
        assert isinstance(ended, ProcessNode)
        assert ended.process_state is ProcessState.FINISHED
        assert ended.get_outputs_dict()["trace"].value == list(range(1, 11))


def test_a_submission_into_a_shared_store_wakes_the_injected_notifier(home: Path) -> None:
    shared = MemoryCheckpoints()
    woken = Recorder()
    with Runtime(home, durability=Checkpointed(InMemoryStore(shared), woken)) as client:
        node = client.submit(Loop, n=Int(3))
        assert woken.arrived.wait(TIMEOUT)
        assert woken.pids == [node.pk]
        assert list(shared.running) == [node.pk]
    with Runtime(home, durability=Checkpointed(InMemoryStore(shared))) as worker:
        assert worker.adopt_checkpoints() == [node.pk]
        assert worker.wait(node.pk or 0, TIMEOUT)
        ended = worker.load_node(node.pk or 0)
        assert isinstance(ended, ProcessNode)
        assert ended.process_state is ProcessState.FINISHED
        assert ended.get_outputs_dict()["count"].value == 3
    assert list(shared.finished) == [node.pk]


def test_the_engine_imports_no_daemon_and_no_concrete_store() -> None:
    """Only the composition root (``runtime.py`` with its ``runtime_checkpoints.py``, and
    ``assembly.py``) picks the defaults; the engine
    speaks to ``persistence.store``'s protocols, so another store plugs in without touching it."""
    offenders = []
    for path in sorted(ACTORS.glob("*.py")):
        if path.name in {"runtime.py", "runtime_checkpoints.py", "assembly.py"}:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.startswith("actors.daemon") or name in {
                    "persistence.PicklePersistence",
                    "persistence.pickle_persistence",
                    "persistence.file_adoption",
                    "persistence.held_locks",
                    "persistence.postgres_store",
                    "persistence.pg_adoption",
                    "persistence.pg_claims",
                    "persistence.pg_notify",
                    "persistence.leases",
                }:
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []
