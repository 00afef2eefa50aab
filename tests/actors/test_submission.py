"""``Runtime.queue_up_many``: a batch of submissions stored, checkpointed and woken at once,
all or nothing, each run exactly once by a worker."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors import InputValidationError, ProcessState, Runtime, queue_up_many
from actors.durability import Checkpointed
from actors.durable import NotImportableError
from persistence import CheckpointWriteError, PicklePersistence
from provenance import Int, ProcessNode, load_node
from tests.actors.workchains import Double
from tests.helpers import count_nodes
from tests.persistence.helpers import FailOneFsync

TIMEOUT = 10.0


class Woken:
    """A notifier that records the pids it was told of."""

    def __init__(self) -> None:
        self.pids: list[int] = []

    def submitted(self, pid: int) -> None:
        self.pids.append(pid)


def checkpoints(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("*.pickle"))


def process_nodes(runtime: Runtime) -> list[ProcessNode]:
    nodes = map(load_node, range(1, count_nodes(runtime) + 1))
    return [node for node in nodes if isinstance(node, ProcessNode)]


def test_a_batch_is_checkpointed_and_woken_once_and_a_worker_runs_each_exactly_once(
    home: Path,
) -> None:
    woken = Woken()
    with Runtime(home, durability=Checkpointed(notifier=woken)) as submitter:
        pids = submitter.queue_up_many((Double, {"x": Int(x)}) for x in range(5))
        assert woken.pids == [pids[-1]]
        assert checkpoints(submitter.running_directory) == sorted(f"{pid}.pickle" for pid in pids)
    with Runtime(home, durable=True) as worker:
        assert sorted(worker.adopt_checkpoints()) == sorted(pids)
        assert worker.adopt_checkpoints() == []
        for pid in pids:
            assert worker.wait(pid, TIMEOUT)
        assert checkpoints(worker.finished_directory) == sorted(f"{pid}.pickle" for pid in pids)
        for x, pid in enumerate(pids):
            node = load_node(pid)
            assert isinstance(node, ProcessNode)
            assert node.process_state is ProcessState.FINISHED
            assert node.get_outputs_dict()["y"].value == 2 * x


def test_the_module_level_queue_up_many_submits_to_the_runtime_in_use(runtime: Runtime) -> None:
    shared = Int(4)  # one input of two processes: stored once
    pids = queue_up_many([(Double, {"x": shared}), (Double, {"x": shared})])
    assert len(set(pids)) == 2
    assert checkpoints(runtime.running_directory) == sorted(f"{pid}.pickle" for pid in pids)
    assert count_nodes(runtime) == 3


def test_a_batch_with_one_bad_input_stores_nothing(runtime: Runtime) -> None:
    with pytest.raises(InputValidationError, match="wrap plain values"):
        runtime.queue_up_many([(Double, {"x": Int(1)}), (Double, {"x": 3})])
    assert count_nodes(runtime) == 0
    assert checkpoints(runtime.running_directory) == []


def test_a_batch_with_a_class_no_worker_can_import_stores_nothing(runtime: Runtime) -> None:
    class Local(Double):
        pass

    with pytest.raises(NotImportableError, match="defined inside a function"):
        runtime.queue_up_many([(Double, {"x": Int(1)}), (Local, {"x": Int(2)})])
    assert count_nodes(runtime) == 0


def test_a_batch_whose_checkpoints_cannot_all_be_written_leaves_none_and_ends_every_process(
    runtime: Runtime, tmp_path: Path
) -> None:
    storage = PicklePersistence.create_from_basedir(tmp_path / "queue", write_hook=FailOneFsync())
    with pytest.raises(CheckpointWriteError, match="No space left"):
        runtime.queue_up_many([(Double, {"x": Int(x)}) for x in range(3)], storage=storage)
    assert checkpoints(storage.running_directory) == []
    assert storage.load_all_processes() == []
    nodes = process_nodes(runtime)
    assert len(nodes) == 3
    for node in nodes:
        assert node.process_state is ProcessState.EXCEPTED
        assert "the first checkpoints of its batch of 3 could not all be written" in (
            node.exception or ""
        )
