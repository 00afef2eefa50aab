"""``workactors node show`` on data and process nodes."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.actors.cli.conftest import Cli, PopulatedHome


def test_node_show_of_a_data_node_shows_its_value_and_the_process_that_created_it(
    cli: Cli, populated_home: PopulatedHome
) -> None:
    result = cli("node", "show", str(populated_home.add_result))

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert re.search(r"type\s+data\.int", out)
    assert re.search(rf"pk\s+{populated_home.add_result}\b", out)
    assert re.search(r"uuid\s+[0-9a-f-]{36}", out)
    attributes, links = out.split("Attributes")[1].split("Incoming links")
    assert re.search(r"value\s+5", attributes)
    incoming, outgoing = links.split("Outgoing links")
    assert re.search(
        rf"create\s+_return\s+{populated_home.add}\s+process\.workcalculation", incoming
    )
    assert outgoing.strip() == "none"


def test_node_show_of_a_process_node_lists_links_in_both_directions(
    cli: Cli, populated_home: PopulatedHome
) -> None:
    result = cli("node", "show", str(populated_home.child))

    incoming, outgoing = result.stdout.split("Incoming links")[1].split("Outgoing links")
    assert re.search(r"input\s+x\s+\d+\s+data\.int", incoming)
    assert re.search(rf"call\s+CALL\s+{populated_home.parent}\s+process\.calculation", incoming)
    assert re.search(
        rf"call\s+CALL\s+{populated_home.grandchild}\s+process\.workcalculation", outgoing
    )
    assert re.search(r"return\s+y\s+\d+\s+data\.int", outgoing)


def test_node_show_json_has_the_attributes_and_typed_links(
    cli: Cli, populated_home: PopulatedHome
) -> None:
    result = cli("node", "show", str(populated_home.add), "--json")

    assert result.exit_code == 0, result.output
    node = json.loads(result.stdout)
    assert node["pk"] == populated_home.add
    assert node["node_type"] == "process.workcalculation"
    assert node["attributes"]["process_label"] == "add"
    assert node["attributes"]["process_state"] == "finished"
    assert [(link["link_type"], link["label"]) for link in node["incoming"]] == [
        ("input", "a"),
        ("input", "b"),
    ]
    assert node["outgoing"] == [
        {
            "link_type": "create",
            "label": "_return",
            "pk": populated_home.add_result,
            "uuid": node["outgoing"][0]["uuid"],
            "node_type": "data.int",
        }
    ]


def test_node_show_of_a_missing_pk_exits_1_with_one_line_naming_the_pk(cli: Cli) -> None:
    result = cli("node", "show", "31337")

    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: no node with pk 31337")
    assert "`workactors process list`" in line
