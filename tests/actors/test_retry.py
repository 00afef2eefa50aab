"""spec.retry: plain processes run again on the listed exceptions, each attempt recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from actors import Process, ProcessSpec, ProcessState, Runtime, SpecError, WorkChain
from actors.retry import ATTEMPTS_ATTRIBUTE
from provenance import load_node
from tests.actors.daemon.processes import marks_of
from tests.actors.toolkit_processes import Shaky


def test_a_process_raising_a_listed_exception_is_run_again(
    runtime: Runtime, tmp_path: Path
) -> None:
    result, node = runtime.run_get_node(Shaky, succeed_at=3, marks=str(tmp_path))

    assert result["attempts"].value == 3
    stored = load_node(node.pk)
    assert stored.process_state is ProcessState.FINISHED
    assert stored.attributes[ATTEMPTS_ATTRIBUTE] == 2
    assert [step for step, _ in marks_of(tmp_path, node.pk)] == [1, 2, 3]
    failed = [entry.message for entry in stored.logs if "failed: ConnectionError" in entry.message]
    assert len(failed) == 2
    assert "attempt 1 of 4 failed: ConnectionError: attempt 1 could not connect" in failed[0]


def test_the_last_attempt_failing_ends_the_process_excepted(
    runtime: Runtime, tmp_path: Path
) -> None:
    with pytest.raises(ConnectionError, match="attempt 4"):
        runtime.run(Shaky, succeed_at=9, marks=str(tmp_path))

    pids = {int(path.stem) for path in tmp_path.glob("*.marks")}
    (pid,) = pids
    assert [step for step, _ in marks_of(tmp_path, pid)] == [1, 2, 3, 4]
    stored = load_node(pid)
    assert stored.process_state is ProcessState.EXCEPTED
    assert stored.attributes[ATTEMPTS_ATTRIBUTE] == 4  # every failed attempt, the last too


def test_an_exception_not_listed_is_not_retried(runtime: Runtime) -> None:
    class Once(Process):
        @classmethod
        def define(cls, spec: ProcessSpec) -> None:
            super().define(spec)
            spec.retry(max_attempts=3, on=(ConnectionError,))

        def run(self) -> None:
            self.report("attempt %d", self.attempt)
            raise ValueError("not a connection problem")

    with pytest.raises(ValueError, match="not a connection problem"):
        runtime.run(Once)


def test_retries_are_checkpointed_on_a_durable_runtime(home: Path, tmp_path: Path) -> None:
    with Runtime(home, durable=True) as runtime:
        result = runtime.run(Shaky, succeed_at=2, marks=str(tmp_path))

    assert result["attempts"].value == 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"max_attempts": 0}, "max_attempts must be an int of at least 1"),
        ({"on": (KeyboardInterrupt,)}, "on must be an exception class"),
        ({"backoff": -1}, "backoff must be seconds"),
    ],
)
def test_bad_retry_arguments_are_refused_naming_the_class(arguments: Any, message: str) -> None:
    def define(cls: Any, spec: ProcessSpec) -> None:
        spec.retry(**arguments)

    with pytest.raises(SpecError, match=f"Bad: spec.retry: {message}"):
        type("Bad", (Process,), {"define": classmethod(define), "run": lambda self: None})


def test_a_work_chain_is_pointed_at_base_restart_work_chain() -> None:
    def define(cls: Any, spec: Any) -> None:
        spec.retry(max_attempts=2)

    with pytest.raises(SpecError, match="BaseRestartWorkChain"):
        type("Chain", (WorkChain,), {"define": classmethod(define)})
