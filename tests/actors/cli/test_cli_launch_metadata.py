"""A launch's ``metadata`` label and description, as the CLI shows them (issue 13: "shown by
the CLI"; a user review found them in neither ``process list`` nor ``process show``)."""

from __future__ import annotations

import json
from pathlib import Path

from actors import Runtime
from provenance import Int
from tests.actors.cli.conftest import Cli, add


def test_process_list_and_show_give_the_launch_label_and_description(
    cli: Cli, tmp_path: Path
) -> None:
    with Runtime(tmp_path / "home") as runtime:
        _r, labelled = add.run_get_node(
            Int(1), Int(2), metadata={"label": "Si relax", "description": "the silicon one"}
        )
        add(Int(3), Int(4))
        home = runtime.home

    listed = json.loads(cli("process", "list", "--json", home=home).stdout)
    assert [(p["pk"], p["label"]) for p in listed] == [
        (labelled.pk, "Si relax"),
        (listed[1]["pk"], ""),
    ]
    table = cli("process", "list", home=home).stdout
    assert "Node label" in table
    assert "Si relax" in table

    only = json.loads(cli("process", "list", "--label", "Si%", "--json", home=home).stdout)
    assert [p["pk"] for p in only] == [labelled.pk]
    none = json.loads(cli("process", "list", "--label", "Si", "--json", home=home).stdout)
    assert none == []

    shown = json.loads(cli("process", "show", str(labelled.pk), "--json", home=home).stdout)
    assert (shown["label"], shown["description"]) == ("Si relax", "the silicon one")
    text = cli("process", "show", str(labelled.pk), home=home).stdout
    assert "the silicon one" in text
