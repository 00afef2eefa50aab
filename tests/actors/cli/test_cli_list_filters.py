"""``process list`` filters on the query layer, and nodes named by uuid or uuid prefix."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from actors import ExitCode, Process, ProcessSpec, Runtime
from provenance import Int
from provenance.models import DbNode
from tests.actors.cli.conftest import Cli, PopulatedHome, add, launch_waiting
from tests.actors.daemon.helpers import wait_for
from tests.actors.workchains import gate

TIMEOUT = 60.0
#: Two stored nodes are given these uuids, so that the prefix "abcd" is ambiguous.
TWINS = ("abcd0000-0000-4000-8000-000000000001", "abcd1111-0000-4000-8000-000000000002")


class Refuses(Process):
    """Ends FINISHED with exit status 300 (a handled failure)."""

    @classmethod
    def define(cls, spec: ProcessSpec) -> None:
        """One exit code."""
        super().define(spec)
        spec.exit_code(300, "ERROR_REFUSED", "refused on purpose")

    def run(self) -> ExitCode:
        """Refuse."""
        return self.exit_codes.ERROR_REFUSED


def _listed(cli: Cli, home: Path, *options: str) -> list[dict[str, Any]]:
    result = cli("process", "list", "--json", *options, home=home)
    assert result.exit_code == 0, result.output
    listed: list[dict[str, Any]] = json.loads(result.stdout)
    return listed


@pytest.fixture(scope="module")
def filtered_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """Two adds (one created ten days ago), a refused process, nothing else."""
    home = tmp_path_factory.mktemp("filters")
    with Runtime(home) as rt:
        _r, old = rt.run_get_node(add, Int(1), Int(2))
        _r, new = rt.run_get_node(add, Int(3), Int(4))
        _r, refused = rt.run_get_node(Refuses)
        twins = (Int(5).store(), Int(6).store())
        rt.backend.sync()
        with rt.storage.write_engine.begin() as connection:
            ten_days_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
            connection.execute(update(DbNode).where(DbNode.id == old.pk).values(ctime=ten_days_ago))
            for twin, node in zip(TWINS, twins, strict=True):
                connection.execute(update(DbNode).where(DbNode.id == node.pk).values(uuid=twin))
    pks = {"old": old.pk, "new": new.pk, "refused": refused.pk}
    return home, {name: pk for name, pk in pks.items() if pk is not None}


def test_filters_select_by_age_label_class_and_exit_status(
    cli: Cli, filtered_home: tuple[Path, dict[str, int]]
) -> None:
    home, pks = filtered_home

    def listed(*options: str) -> set[int]:
        return {process["pk"] for process in _listed(cli, home, *options)}

    assert listed() == set(pks.values())
    assert listed("--past-days", "1") == {pks["new"], pks["refused"]}
    assert listed("-L", "add") == {pks["old"], pks["new"]}
    assert listed("-L", "Ref%") == {pks["refused"]}
    assert listed("-C", "Refuses") == {pks["refused"]}
    assert listed("-C", Refuses.class_path()) == {pks["refused"]}
    assert listed("-C", "Nothing") == set()
    assert listed("-E", "300") == {pks["refused"]}
    assert listed("-E", "0", "-p", "1") == {pks["new"]}
    assert listed("--failed") == {pks["refused"]}
    assert listed("-s", "finished", "-s", "excepted") == set(pks.values())
    assert listed("-s", "killed") == set()


def test_waiting_and_paused_processes_are_listed_first_and_selected_by_state(
    cli: Cli, tmp_path: Path
) -> None:
    names = [f"gate-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with Runtime(tmp_path / "live") as runtime:
        done = add(Int(1), Int(1))
        assert done.pk is not None
        launched = launch_waiting(runtime, names)
        pids = [process.pid for process, _done in launched]
        try:
            paused = cli("process", "pause", str(pids[0]), home=runtime.home)
            assert paused.exit_code == 0, paused.output
            wait_for(
                lambda: [p["pk"] for p in _listed(cli, runtime.home, "-s", "paused")] == [pids[0]],
                TIMEOUT,
                "one paused",
            )
            listing = _listed(cli, runtime.home)
            states = [process["state"] for process in listing]
            # Waiting work chains and their running children first, the finished add last.
            assert states[-1] == "finished"
            assert "finished" not in states[:-1]
            waiting = {p["pk"] for p in _listed(cli, runtime.home, "-s", "waiting")}
            assert waiting == set(pids)
            table = cli("process", "list", home=runtime.home).stdout
            assert table.count("(paused)") == 1
        finally:
            cli("process", "play", str(pids[0]), home=runtime.home)
            for name in names:
                gate(name).set()
        for _process, future in launched:
            future.result(timeout=TIMEOUT)


def test_process_show_report_and_node_show_take_a_uuid_or_a_prefix(
    cli: Cli, populated_home: PopulatedHome
) -> None:
    by_pk = json.loads(cli("process", "show", str(populated_home.add), "--json").stdout)
    prefix = by_pk["uuid"][:8]
    for identifier in (by_pk["uuid"], prefix, prefix.upper()):
        shown = cli("process", "show", identifier, "--json")
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.stdout)["pk"] == populated_home.add
    report = cli("process", "report", prefix)
    assert report.exit_code == 0, report.output
    node = cli("node", "show", prefix, "--json")
    assert json.loads(node.stdout)["pk"] == populated_home.add
    graph = cli("node", "graph", prefix)
    assert graph.exit_code == 0, graph.output
    assert graph.stdout.startswith("digraph")


def test_an_ambiguous_or_unknown_prefix_is_one_line_naming_the_candidates(
    cli: Cli, filtered_home: tuple[Path, dict[str, int]]
) -> None:
    home, _pks = filtered_home
    ambiguous = cli("node", "show", "abcd", home=home)
    assert ambiguous.exit_code == 1
    [line] = ambiguous.stderr.splitlines()
    assert "the uuid prefix 'abcd' matches several nodes" in line
    assert f"{TWINS[0]} (pk" in line
    assert f"{TWINS[1]} (pk" in line
    one = cli("node", "show", TWINS[1][:10], "--json", home=home)
    assert json.loads(one.stdout)["uuid"] == TWINS[1]
    unknown = cli("process", "show", "ffff0000-0000", home=home)
    assert unknown.exit_code == 1
    [line] = unknown.stderr.splitlines()
    assert "no node with uuid prefix 'ffff0000-0000'" in line


def test_a_prefix_of_decimal_digits_names_its_node_where_no_pk_has_that_number(
    cli: Cli, tmp_path: Path
) -> None:
    """One uuid in ~400 starts with eight decimal digits; ``process list`` shows it, and every
    verb must take it back (it was read as a missing pk: a flaky ``group add`` test found it)."""
    digits = "44720950-0000-4000-8000-000000000001"
    leading_zero = "04845586-0000-4000-8000-000000000002"
    with Runtime(tmp_path / "home") as runtime:
        node, zero = Int(5).store(), Int(6).store()
        runtime.backend.sync()
        with runtime.storage.write_engine.begin() as connection:
            connection.execute(update(DbNode).where(DbNode.id == node.pk).values(uuid=digits))
            connection.execute(update(DbNode).where(DbNode.id == zero.pk).values(uuid=leading_zero))
        home = runtime.home
    shown = cli("node", "show", digits[:8], "--json", home=home)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["pk"] == node.pk
    shown = cli("node", "show", leading_zero[:8], "--json", home=home)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["pk"] == zero.pk
    assert cli("group", "create", "g", home=home).exit_code == 0
    added = cli("group", "add", "g", digits[:8], home=home)
    assert added.exit_code == 0, added.output
    assert "Added 1 node(s) to group 'g'" in added.stdout
    unknown = cli("node", "show", "44720951", home=home)
    assert unknown.exit_code == 1
    assert "no node with pk 44720951" in unknown.stderr


@pytest.mark.parametrize(
    ("argument", "says"),
    [("abc", "valid integer"), ("xyzw", "valid integer"), ("0", "greater than or equal to 1")],
)
def test_a_word_that_is_neither_pk_nor_uuid_is_a_usage_error(
    cli: Cli, argument: str, says: str
) -> None:
    result = cli("node", "show", argument)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert says in line
