"""``process report``: one timeline across the call tree, filtered by level and depth, with the
traceback of an excepted child where it ended."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from actors import Process, Runtime
from actors.cli import app
from actors.process import REPORT_LOGGER_NAME
from provenance import Int, ProcessNode
from provenance.storage import sqlite_url
from tests.actors.cli.conftest import PLAIN_ENV, Broken, Parent, pk_of


class Guarded(Process):
    """Runs a ``Parent`` and a ``Broken`` child, and warns after the broken one failed."""

    def run(self) -> None:
        """Report, run the two children, warn."""
        self.report("guard starting")
        self.runtime.run(Parent, x=Int(1))
        try:
            self.runtime.run(Broken)
        except ValueError:
            logging.getLogger(REPORT_LOGGER_NAME).warning(
                "[Guarded|run] the broken child failed; carrying on",
                extra={"pid": self.pid, "workactors_runtime": id(self.runtime)},
            )
        self.report("guard done")


@dataclass(frozen=True)
class GuardedHome:
    path: Path
    guarded: int
    parent: int
    child: int
    broken: int


@pytest.fixture(scope="module")
def guarded_home(tmp_path_factory: pytest.TempPathFactory) -> GuardedHome:
    home = tmp_path_factory.mktemp("report-home")
    with Runtime(home, database_url=sqlite_url(home / "provenance.sqlite")) as runtime:
        _result, node = runtime.run_get_node(Guarded)
        assert isinstance(node, ProcessNode)
        parent, broken = node.called
        assert isinstance(parent, ProcessNode)
        return GuardedHome(home, pk_of(node), pk_of(parent), pk_of(parent.called[0]), pk_of(broken))


def report(home: GuardedHome, *args: str) -> Result:
    return CliRunner().invoke(
        app,
        ["--home", str(home.path), "process", "report", str(home.guarded), *args],
        env=PLAIN_ENV,
    )


def _index(lines: list[str], text: str) -> int:
    return next(i for i, line in enumerate(lines) if text in line)


def test_the_report_is_in_time_order_with_the_childs_traceback_where_it_ended(
    guarded_home: GuardedHome,
) -> None:
    result = report(guarded_home)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    home = guarded_home
    order = [
        _index(lines, "guard starting"),
        _index(lines, f"Parent<{home.parent}> started"),
        _index(lines, "parent starting"),
        _index(lines, "child got 1"),
        _index(lines, f"Parent<{home.parent}> finished"),
        _index(lines, f"Broken<{home.broken}> excepted"),
        _index(lines, "ValueError: broken on purpose"),
        _index(lines, "carrying on"),
        _index(lines, "guard done"),
    ]
    assert order == sorted(order)
    traceback_line = lines[_index(lines, "ValueError: broken on purpose")]
    broken_line = lines[_index(lines, f"Broken<{home.broken}> excepted")]
    assert len(traceback_line) - len(traceback_line.lstrip()) > broken_line.index("Broken")
    assert "Traceback (most recent call last)" in result.stdout


def test_levelname_keeps_records_at_that_level_and_above(guarded_home: GuardedHome) -> None:
    result = report(guarded_home, "--levelname", "warning")

    assert result.exit_code == 0, result.output
    assert "carrying on" in result.stdout
    assert "guard starting" not in result.stdout
    assert "child got 1" not in result.stdout
    assert f"Broken<{guarded_home.broken}> excepted" in result.stdout  # ends are not records


def test_max_depth_leaves_out_deeper_called_processes(guarded_home: GuardedHome) -> None:
    only_root = report(guarded_home, "--max-depth", "0")
    one_level = report(guarded_home, "--max-depth", "1", "--json")

    assert only_root.exit_code == 0, only_root.output
    assert "guard starting" in only_root.stdout
    assert "Parent<" not in only_root.stdout
    assert "parent starting" not in only_root.stdout
    document = json.loads(one_level.stdout)
    assert [child["pk"] for child in document["called"]] == [
        guarded_home.parent,
        guarded_home.broken,
    ]
    assert all(child["called"] == [] for child in document["called"])
    assert "ValueError: broken on purpose" in document["called"][1]["exception"]


def test_several_pks_are_reported_one_after_another(guarded_home: GuardedHome) -> None:
    result = CliRunner().invoke(
        app,
        [
            "--home",
            str(guarded_home.path),
            "process",
            "report",
            str(guarded_home.parent),
            str(guarded_home.broken),
            "--json",
        ],
        env=PLAIN_ENV,
    )
    assert result.exit_code == 0, result.output
    assert [tree["pk"] for tree in json.loads(result.stdout)] == [
        guarded_home.parent,
        guarded_home.broken,
    ]
