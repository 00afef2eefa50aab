"""Launch metadata in the CLI: the label and description given at launch are shown."""

from __future__ import annotations

import json
from pathlib import Path

from actors import Runtime
from provenance.storage import sqlite_url
from tests.actors.cli.conftest import Cli
from tests.actors.toolkit_processes import Relax


def test_node_show_gives_the_label_and_description_of_the_launch(cli: Cli, tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Runtime(home, database_url=sqlite_url(home / "provenance.sqlite")) as runtime:
        _, node = runtime.run_get_node(
            Relax, scf={"x": 1}, metadata={"label": "relax Si", "description": "first try"}
        )

    shown = cli("node", "show", str(node.pk), "--json", home=home)

    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.output)
    assert (detail["label"], detail["description"]) == ("relax Si", "first try")
    human = cli("node", "show", str(node.pk), home=home)
    assert "relax Si" in human.output
    assert "first try" in human.output
