"""The seed's report/run/on_finish forms, exit codes held to the spec's rules, and a home that
is a file."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from structlog.testing import capture_logs

from actors import ActorError, ExitCode, Process, SpecError, WorkChain, return_, run
from actors.home import HomeFolderError
from actors.runtime import Runtime
from actors.workchain import WorkChainSpec
from provenance import Int, ProcessState
from tests.actors.test_workfunction import sum as add


class Reports(Process):
    def run(self) -> None:
        self.report("mapping %(name)s=%(value)d", {"name": "x", "value": 3})
        try:
            raise ZeroDivisionError("the reason")
        except ZeroDivisionError:
            self.report("caught %s", "it", exc_info=True)
        self.report("lone \ud800 surrogate")
        self.report("with extra", extra={"tag": "t1"})


def test_report_takes_logging_style_arguments_and_stores_the_traceback(
    runtime: Runtime,
) -> None:
    _outputs, node = runtime.run_get_node(Reports)

    assert node.process_state is ProcessState.FINISHED, node.exception
    messages = [entry.message for entry in node.logs]
    assert messages[0] == "[Reports|run] mapping x=3"
    assert messages[1].startswith("[Reports|run] caught it\nTraceback")
    assert "ZeroDivisionError: the reason" in messages[1]
    assert messages[2] == "[Reports|run] lone \\ud800 surrogate"
    assert node.logs[3].metadata["tag"] == "t1"


def test_a_report_whose_arguments_do_not_fit_raises_in_the_step(runtime: Runtime) -> None:
    class BadReport(Process):
        def run(self) -> None:
            self.report("%d and %d", 1)

    with pytest.raises(TypeError, match="not enough arguments"):
        runtime.run(BadReport)


class Plain(Process):
    def run(self) -> None:
        pass


def test_run_stores_the_attributes_given_on_the_process_node(runtime: Runtime) -> None:
    run(Plain, _attributes={"origin": "seed", "count": 2})
    _result, node = runtime.run_get_node(Plain, _attributes={"origin": "other"})

    assert node.attributes["origin"] == "other"
    assert node.process_state is ProcessState.FINISHED


def test_attributes_that_the_engine_sets_itself_are_refused(runtime: Runtime) -> None:
    with pytest.raises(ActorError, match="exit_status is set by the engine"):
        runtime.run(Plain, _attributes={"exit_status": 3})


def test_attributes_are_refused_for_a_workfunction(runtime: Runtime) -> None:
    with pytest.raises(TypeError, match="Process class only"):
        runtime.run(add, Int(1), Int(2), _attributes={"a": 1})


class SeedFormOnFinish(Process):
    finished: ClassVar[list[str]] = []

    def run(self) -> int:
        return 7

    def on_finish(self) -> None:  # type: ignore[override]
        super().on_finish()
        self.finished.append(self.process_label())


def test_on_finish_overridden_without_the_exit_code_keeps_working(runtime: Runtime) -> None:
    _result, node = runtime.run_get_node(SeedFormOnFinish)

    assert node.process_state is ProcessState.FINISHED, node.exception
    assert node.exit_status == 7
    assert SeedFormOnFinish.finished == ["SeedFormOnFinish"]


@pytest.mark.parametrize(
    ("returned", "why"),
    [
        (ExitCode(-5), "outside 0"),
        (ExitCode(0, "", "all fine"), "status 0 means success and carries no message"),
        (ExitCode(10**30), "outside 0"),
        (-1, "outside 0"),
        (2**63, "outside 0"),
        (ExitCode("3"), "is not an int"),  # type: ignore[arg-type]
    ],
)
def test_a_step_returning_an_exit_code_outside_the_rules_ends_excepted_saying_why(
    runtime: Runtime, returned: object, why: str
) -> None:
    class Returns(Process):
        def run(self) -> object:
            return returned

    with pytest.raises(SpecError, match=why):
        runtime.run(Returns)


def test_a_returned_exit_code_within_the_rules_is_stored(runtime: Runtime) -> None:
    class Teapot(Process):
        def run(self) -> ExitCode:
            return ExitCode(2**63 - 1, "BIGGEST", "the largest status the database stores")

    _result, node = runtime.run_get_node(Teapot)

    assert node.process_state is ProcessState.FINISHED, node.exception
    assert (node.exit_status, node.exit_message) == (
        2**63 - 1,
        "the largest status the database stores",
    )


def test_return_with_an_exit_code_outside_the_rules_is_refused_at_definition() -> None:
    with pytest.raises(SpecError, match="outside 0"):
        return_(ExitCode(-2))


def test_spec_exit_code_beyond_64_bits_is_refused_where_the_class_is_defined() -> None:
    with pytest.raises(SpecError, match=r"Huge: .*64 bits"):

        class Huge(WorkChain):
            @classmethod
            def define(cls, spec: WorkChainSpec) -> None:
                super().define(spec)
                spec.exit_code(2**64, "HUGE", "too big")
                spec.outline(cls.go)

            def go(self) -> None:
                pass


def test_a_home_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    a_file = tmp_path / "home"
    a_file.write_text("not a folder")

    with pytest.raises(HomeFolderError, match=r"home is a file, not a folder"):
        Runtime(a_file)
    with pytest.raises(HomeFolderError, match=r"home is a file, not a folder"):
        Runtime(a_file / "below")


def test_a_home_readable_by_others_is_warned_about(tmp_path: Path) -> None:
    home = tmp_path / "open"
    home.mkdir(mode=0o755)
    home.chmod(0o755)

    with capture_logs() as logs, Runtime(home):
        pass

    assert any(entry["event"] == "provenance.home_open_to_others" for entry in logs)
    assert (home / "provenance.sqlite").stat().st_mode & 0o777 == 0o600
