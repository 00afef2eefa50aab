"""Code changes under running work chains: a checkpoint keeps its outline position by step
names, so steps inserted or appended after the current one run; a removed current step is a
clear error, and the checkpoint goes on once the step is back."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors import Runtime
from actors.daemon.requeue import requeue
from provenance import ProcessNode, ProcessState, load_node
from tests.actors.toolkit_processes import Evolving
from tests.actors.workchains import hold

TIMEOUT = 60.0


@pytest.fixture(autouse=True)
def _original_outline() -> Iterator[None]:
    Evolving.switch("original")
    yield
    Evolving.switch("original")


def _checkpoint_after_held(home: Path) -> int:
    """Run Evolving up to its ``held`` step, stop the runtime there: the checkpoint is left."""
    tag = uuid.uuid4().hex
    reached, release = hold(tag)
    first = Runtime(home, durable=True)
    process, _done = first.launch(Evolving, {"tag": tag})
    assert process.pid is not None
    assert reached.wait(TIMEOUT)
    stopping = threading.Thread(target=first.shutdown)
    stopping.start()  # stops the actor after the step in progress
    release.set()
    stopping.join(TIMEOUT)
    return process.pid


def _resume(home: Path, pid: int) -> tuple[ProcessNode, list[str]]:
    """Adopt the checkpoint in a new runtime; the node and its trace output when it ended."""
    with Runtime(home, durable=True) as second:
        assert second.adopt_checkpoints() == [pid]
        assert second.wait(pid, TIMEOUT)
        node = load_node(pid)
        assert isinstance(node, ProcessNode)
        assert node.process_state is ProcessState.FINISHED, node.exception
        return node, node.get_outputs_dict()["trace"].value


@pytest.mark.parametrize(
    ("variant", "trace"),
    [
        ("inserted", ["first", "held", "extra", "last"]),
        ("appended", ["first", "held", "last"]),  # extra runs after last emitted the trace
    ],
)
def test_steps_added_after_the_current_one_run_when_the_checkpoint_resumes(
    home: Path, variant: str, trace: list[str]
) -> None:
    pid = _checkpoint_after_held(home)
    Evolving.switch(variant)

    _node, traced = _resume(home, pid)

    assert traced == trace


def test_removing_the_current_step_is_refused_naming_it_and_requeued_once_restored(
    home: Path,
) -> None:
    pid = _checkpoint_after_held(home)
    Evolving.switch("removed")

    with Runtime(home, durable=True) as second:
        assert second.adopt_checkpoints() == []
        refused = sorted(second.failed_directory.glob("*.reason.txt"))
        reasons = " ".join(path.read_text() for path in refused)
    assert f"pid {pid}) is at step 'held', which the outline of Evolving no longer has" in reasons

    Evolving.switch("original")  # the code is restored
    with Runtime(home, durable=True) as third:
        requeue(third, pid)
    _node, traced = _resume(home, pid)
    assert traced == ["first", "held", "last"]
