"""``workactors process list|show|report`` against a home with real processes in it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.actors.cli.conftest import Cli, PopulatedHome


def _rows(output: str) -> dict[int, list[str]]:
    """The table rows of ``process list`` by pk, split on runs of spaces."""
    rows: dict[int, list[str]] = {}
    for line in output.splitlines():
        cells = line.split()
        if cells and cells[0].isdigit():
            rows[int(cells[0])] = cells[1:]
    return rows


def test_process_list_shows_every_process_with_its_state_newest_last(
    cli: Cli, populated_home: PopulatedHome
) -> None:
    result = cli("process", "list")

    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    home = populated_home
    assert list(rows) == sorted(rows)
    assert rows[home.add][:3] == ["add", "finished", "0"]
    assert rows[home.parent][:3] == ["Parent", "finished", "0"]
    assert rows[home.child][:3] == ["Child", "finished", "0"]
    assert rows[home.broken][:3] == ["Broken", "excepted", "-"]
    assert list(rows)[-1] == home.broken
    assert all(
        re.fullmatch(r"\d+[smhd]", cells[-2]) and cells[-1] == "ago" for cells in rows.values()
    )


def test_process_list_json_is_a_list_of_objects_with_the_process_fields(
    cli: Cli, populated_home: PopulatedHome
) -> None:
    result = cli("process", "list", "--json")

    assert result.exit_code == 0, result.output
    processes = json.loads(result.stdout)
    by_pk = {process["pk"]: process for process in processes}
    assert [process["pk"] for process in processes] == sorted(by_pk)
    broken = by_pk[populated_home.broken]
    assert broken["process_label"] == "Broken"
    assert broken["state"] == "excepted"
    assert broken["exit_status"] is None
    assert broken["node_type"] == "process.calculation"
    assert by_pk[populated_home.add]["state"] == "finished"
    assert by_pk[populated_home.add]["exit_status"] == 0
    assert set(broken) >= {"pk", "uuid", "process_label", "state", "exit_status", "ctime", "mtime"}


def test_process_list_limit_keeps_the_newest_and_says_how_many_were_left_out(
    cli: Cli, populated_home: PopulatedHome
) -> None:
    every = json.loads(cli("process", "list", "--json").stdout)

    limited = cli("process", "list", "--limit", "2")
    limited_json = json.loads(cli("process", "list", "-n", "2", "--json").stdout)

    assert list(_rows(limited.stdout)) == [process["pk"] for process in every[-2:]]
    assert f"The last 2 of {len(every)} processes" in limited.stdout
    assert limited_json == every[-2:]


def test_process_list_all_ignores_the_limit(cli: Cli) -> None:
    every = json.loads(cli("process", "list", "--json").stdout)

    result = cli("process", "list", "--all", "--limit", "1", "--json")

    assert json.loads(result.stdout) == every


def test_process_list_state_filter_keeps_only_processes_in_that_state(
    cli: Cli, populated_home: PopulatedHome
) -> None:
    excepted = json.loads(cli("process", "list", "--state", "EXCEPTED", "--json").stdout)
    finished = json.loads(cli("process", "list", "-s", "finished", "--json").stdout)

    assert [process["pk"] for process in excepted] == [populated_home.broken]
    assert populated_home.broken not in {process["pk"] for process in finished}
    assert {process["state"] for process in finished} == {"finished"}


def test_process_list_of_an_unknown_state_is_a_usage_error(cli: Cli) -> None:
    result = cli("process", "list", "--state", "sleeping")

    assert result.exit_code == 2
    assert "sleeping" in result.stderr


def test_process_list_colours_states_on_a_colour_terminal_but_json_stays_plain(cli: Cli) -> None:
    colour = {"NO_COLOR": None, "FORCE_COLOR": "1"}

    table = cli("process", "list", env=colour)
    as_json = cli("process", "list", "--json", env=colour)

    assert "\x1b[32mfinished" in table.stdout
    assert "\x1b[31mexcepted" in table.stdout
    assert "\x1b[" not in as_json.stdout
    json.loads(as_json.stdout)


def test_process_list_of_an_empty_home_says_so(cli: Cli, tmp_path: Path) -> None:
    result = cli("process", "list", home=tmp_path)

    assert result.exit_code == 0, result.output
    assert "No processes" in result.stdout
    assert json.loads(cli("process", "list", "--json", home=tmp_path).stdout) == []


def test_process_show_lists_inputs_outputs_and_the_called_process(
    cli: Cli, populated_home: PopulatedHome
) -> None:
    result = cli("process", "show", str(populated_home.parent))

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert re.search(r"label\s+Parent", out)
    assert re.search(r"state\s+finished", out)
    assert re.search(r"exit status\s+0", out)
    inputs, outputs = out.split("Inputs")[1].split("Outputs")
    assert re.search(r"x\s+\d+\s+data\.int\s+4", inputs)
    assert re.search(r"y\s+\d+\s+data\.int\s+return\s+8", outputs.split("Called")[0])
    assert re.search(rf"{populated_home.child}\s+Child\s+finished", out.split("Called")[1])


def test_process_show_names_the_caller_of_a_called_process(
    cli: Cli, populated_home: PopulatedHome
) -> None:
    result = cli("process", "show", str(populated_home.child))

    assert re.search(rf"caller\s+Parent<{populated_home.parent}> finished", result.stdout)


def test_process_show_json_has_inputs_outputs_caller_and_called(
    cli: Cli, populated_home: PopulatedHome
) -> None:
    result = cli("process", "show", str(populated_home.add), "--json")

    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["pk"] == populated_home.add
    assert shown["process_label"] == "add"
    assert shown["state"] == "finished"
    assert shown["exit_status"] == 0
    assert [(i["label"], i["node_type"], i["value"]) for i in shown["inputs"]] == [
        ("a", "data.int", 2),
        ("b", "data.int", 3),
    ]
    assert [(o["label"], o["link_type"], o["pk"], o["value"]) for o in shown["outputs"]] == [
        ("_return", "create", populated_home.add_result, 5)
    ]
    assert shown["caller"] is None
    assert shown["called"] == []
    assert shown["exception"] is None


def test_process_show_of_an_excepted_process_prints_its_traceback(
    cli: Cli, populated_home: PopulatedHome
) -> None:
    result = cli("process", "show", str(populated_home.broken))
    as_json = json.loads(cli("process", "show", str(populated_home.broken), "--json").stdout)

    assert result.exit_code == 0, result.output
    assert re.search(r"state\s+excepted", result.stdout)
    exception = result.stdout.split("Exception")[1]
    assert "Traceback (most recent call last)" in exception
    assert "ValueError: broken on purpose" in exception
    assert "ValueError: broken on purpose" in as_json["exception"]


def test_process_show_of_a_data_node_is_refused_with_a_pointer_to_node_show(
    cli: Cli, populated_home: PopulatedHome
) -> None:
    pk = populated_home.add_result
    result = cli("process", "show", str(pk))

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"Error: node {pk} is a data.int node, not a process; `workactors node show {pk}` shows it"
    )


def test_process_show_of_a_missing_pk_exits_1_naming_the_pk(cli: Cli) -> None:
    result = cli("process", "show", "999999")

    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "999999" in line
    assert "`workactors process list`" in line
    assert "Traceback" not in result.output


def _body(line: str) -> str:
    """A report line without its time and level columns (33 characters)."""
    return line[33:]


def test_process_report_shows_report_lines_and_indents_called_processes(
    cli: Cli, populated_home: PopulatedHome
) -> None:
    result = cli("process", "report", str(populated_home.parent))

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    home = populated_home
    assert lines[0].startswith(f"Parent<{home.parent}> finished")
    starting = next(i for i, line in enumerate(lines) if "[Parent|run] parent starting" in line)
    child = next(i for i, line in enumerate(lines) if f"Child<{home.child}> started" in line)
    child_line = next(i for i, line in enumerate(lines) if "[Child|run] child got 4" in line)
    grandchild = next(i for i, line in enumerate(lines) if f"double<{home.grandchild}>" in line)
    done = next(i for i, line in enumerate(lines) if "[Parent|run] parent done" in line)
    assert starting < child < child_line < grandchild < done

    def indent(index: int) -> int:
        return len(_body(lines[index])) - len(_body(lines[index]).lstrip())

    assert indent(starting) < indent(child) == indent(child_line) < indent(grandchild)
    assert indent(done) == indent(starting)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO", lines[starting])


def test_process_report_indents_a_workfunction_called_by_a_workfunction(
    cli: Cli, populated_home: PopulatedHome
) -> None:
    result = cli("process", "report", str(populated_home.chain))

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    first, second = populated_home.chain_children
    assert lines[0] == f"add_then_double<{populated_home.chain}> finished (exit 0)"
    bodies = [_body(line) for line in lines[1:]]
    assert f"  add<{first}> finished (exit 0)" in bodies
    assert f"  double<{second}> finished (exit 0)" in bodies
    assert bodies.index(f"  add<{first}> finished (exit 0)") < bodies.index(
        f"  double<{second}> started"
    )


def test_process_report_json_nests_the_called_processes_with_their_logs(
    cli: Cli, populated_home: PopulatedHome
) -> None:
    result = cli("process", "report", str(populated_home.parent), "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["pk"] == populated_home.parent
    assert [log["message"] for log in report["logs"]] == [
        "[Parent|run] parent starting",
        "[Parent|run] parent done",
    ]
    assert {log["level"] for log in report["logs"]} == {"INFO"}
    [child] = report["called"]
    assert child["pk"] == populated_home.child
    assert [log["message"] for log in child["logs"]] == ["[Child|run] child got 4"]
    [grandchild] = child["called"]
    assert (grandchild["pk"], grandchild["logs"], grandchild["called"]) == (
        populated_home.grandchild,
        [],
        [],
    )


def test_process_report_of_a_missing_pk_exits_1(cli: Cli) -> None:
    result = cli("process", "report", "424242")

    assert result.exit_code == 1
    assert "424242" in result.stderr
