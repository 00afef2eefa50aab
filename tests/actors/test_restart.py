"""BaseRestartWorkChain: attempts as children, handlers by priority, overrides, exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from actors import (
    BaseRestartWorkChain,
    InputValidationError,
    ProcessHandlerReport,
    ProcessSpec,
    ProcessState,
    Runtime,
    SpecError,
    process_handler,
)
from provenance import Int, load_node
from tests.actors.toolkit_processes import Flaky, RestartFlaky


def _children(runtime: Runtime, node: Any) -> list[Any]:
    return sorted(load_node(node.pk).called, key=lambda child: child.pk)


def test_a_child_failing_twice_is_restarted_until_it_succeeds(runtime: Runtime) -> None:
    result, node = runtime.run_get_node(RestartFlaky, flaky={"attempt": 1, "succeed_at": 3})

    assert node.exit_status == 0
    assert result["result"].value == 300
    children = _children(runtime, node)
    assert [child.get_inputs_dict()["attempt"].value for child in children] == [1, 2, 3]
    assert [child.exit_status for child in children] == [300, 300, 0]
    assert [child.label for child in children] == [
        f"RestartFlaky attempt {index}" for index in (1, 2, 3)
    ]
    messages = [entry.message for entry in load_node(node.pk).logs]
    assert sum("handler bump_attempt acted" in message for message in messages) == 2


def test_max_iterations_ends_with_the_standard_exit_code(runtime: Runtime) -> None:
    _, node = runtime.run_get_node(
        RestartFlaky, flaky={"attempt": 1, "succeed_at": 9}, max_iterations=2
    )

    assert (
        node.exit_status == RestartFlaky.spec().exit_codes.ERROR_MAXIMUM_ITERATIONS_EXCEEDED.status
    )
    assert len(_children(runtime, node)) == 2


def test_a_handler_can_end_the_work_chain_with_its_exit_code(runtime: Runtime) -> None:
    _, node = runtime.run_get_node(RestartFlaky, flaky={"attempt": 1, "succeed_at": -1})

    assert node.exit_status == 500
    assert len(_children(runtime, node)) == 1


def test_a_disabled_handler_leaves_failures_unhandled_twice_then_abort(runtime: Runtime) -> None:
    _, node = runtime.run_get_node(
        RestartFlaky,
        flaky={"attempt": 1, "succeed_at": 3},
        handler_overrides={"bump_attempt": False},
    )

    assert node.exit_status == 402
    assert [child.exit_status for child in _children(runtime, node)] == [300, 300]


def test_an_override_for_an_unknown_handler_is_refused_before_launch() -> None:
    with pytest.raises(InputValidationError, match=r"no handler 'bump'"):
        RestartFlaky({"flaky": {"attempt": 1, "succeed_at": 1}, "handler_overrides": {"bump": 1}})


def test_a_handler_for_an_exit_code_the_child_lacks_is_refused_at_definition() -> None:
    with pytest.raises(SpecError, match=r"Wrong\.odd handles exit status 999, which Flaky"):

        class Wrong(BaseRestartWorkChain):
            _process_class = Flaky

            @classmethod
            def define(cls, spec: ProcessSpec) -> None:
                super().define(spec)
                spec.expose_inputs(Flaky)

            @process_handler(exit_codes=[999])
            def odd(self, node: Any) -> None:
                return None


def test_a_handler_names_the_exit_codes_it_handles_from_the_child_class(runtime: Runtime) -> None:
    """aiida-core's idiom: ``@process_handler(exit_codes=[Child.exit_codes.ERROR_X])``
    (``exit_codes`` was an instance property only: AttributeError on the class)."""
    assert Flaky.exit_codes.ERROR_FLAKY.status == 300

    class ByClass(BaseRestartWorkChain):
        _process_class = Flaky

        @classmethod
        def define(cls, spec: ProcessSpec) -> None:
            super().define(spec)
            spec.expose_inputs(Flaky, namespace="flaky")

        @process_handler(exit_codes=[Flaky.exit_codes.ERROR_FLAKY])
        def retry_flaky(self, node: Any) -> ProcessHandlerReport:
            self.ctx.inputs["attempt"] = Int(node.get_inputs_dict()["attempt"].value + 1)
            return ProcessHandlerReport()

    _result, node = runtime.run_get_node(ByClass, flaky={"attempt": 1, "succeed_at": 2})
    assert node.process_state is ProcessState.FINISHED
    assert node.exit_status == 0
    assert len(_children(runtime, node)) == 2


def test_handlers_run_by_priority_and_do_break_stops_the_rest(runtime: Runtime) -> None:
    class Ordered(BaseRestartWorkChain):
        _process_class = Flaky

        @classmethod
        def define(cls, spec: ProcessSpec) -> None:
            super().define(spec)
            spec.expose_inputs(Flaky)
            spec.expose_outputs(Flaky)

        @process_handler(priority=1)
        def low(self, node: Any) -> ProcessHandlerReport:
            self.ctx.setdefault("seen", []).append("low")
            return ProcessHandlerReport()

        @process_handler(priority=9, enabled=False)
        def off(self, node: Any) -> ProcessHandlerReport:
            self.ctx.setdefault("seen", []).append("off")
            return ProcessHandlerReport(do_break=True)

        @process_handler(priority=5)
        def high(self, node: Any) -> None:
            self.ctx.setdefault("seen", []).append("high")
            self.ctx.inputs["attempt"] = self.ctx.inputs["succeed_at"]

        def results(self) -> Any:
            self.report("seen %s", ",".join(self.ctx.seen))
            return super().results()

    result, node = runtime.run_get_node(Ordered, attempt=1, succeed_at=2)

    assert result["result"].value == 200
    assert any("seen high,low,high,low" in entry.message for entry in load_node(node.pk).logs)


def test_an_excepted_child_ends_the_work_chain_with_the_standard_code(runtime: Runtime) -> None:
    _, node = runtime.run_get_node(RestartFlaky, flaky={"attempt": 1, "succeed_at": 0})

    assert node.process_state is ProcessState.FINISHED
    assert node.exit_status == RestartFlaky.spec().exit_codes.ERROR_SUB_PROCESS_EXCEPTED.status
    assert [child.process_state for child in _children(runtime, node)] == [ProcessState.EXCEPTED]


def test_max_iterations_takes_a_plain_int_through_its_serializer() -> None:
    with pytest.raises(InputValidationError, match=r"input 'max_iterations' must be Int"):
        RestartFlaky({"flaky": {"attempt": 1, "succeed_at": 1}, "max_iterations": "three"})


def test_restart_runs_on_a_durable_runtime(home: Path) -> None:
    with Runtime(home, durable=True) as runtime:
        result, node = runtime.run_get_node(RestartFlaky, flaky={"attempt": 1, "succeed_at": 3})

        assert result["result"].value == 300
        assert len(_children(runtime, node)) == 3


@pytest.mark.parametrize("attempts", [0, -1])
def test_max_iterations_below_one_is_refused_before_launch(attempts: int) -> None:
    with pytest.raises(InputValidationError, match=r"max_iterations of .* at least 1 .*got"):
        RestartFlaky({"flaky": {"attempt": 1, "succeed_at": 1}, "max_iterations": attempts})


def test_a_handler_enabled_by_something_else_than_a_bool_is_refused() -> None:
    with pytest.raises(SpecError, match=r"enabled must be True or False, got 'no'"):
        process_handler(enabled="no")  # type: ignore[arg-type]
