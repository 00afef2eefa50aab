"""``workactors group list|create|add|show`` on a real home."""

from __future__ import annotations

import json
from pathlib import Path

from actors import Runtime
from provenance import Group, Int, Str
from tests.actors.cli.conftest import Cli


def test_a_group_is_created_filled_listed_and_shown(cli: Cli, tmp_path: Path) -> None:
    with Runtime(tmp_path / "home") as runtime:
        one, text = Int(1).store(), Str("hello", label="greeting").store()
        home = runtime.home
    created = cli("group", "create", "results", home=home)
    assert created.exit_code == 0, created.output
    assert "Created group 'results'" in created.stdout
    again = cli("group", "create", "results", home=home)
    assert "Group 'results' exists already" in again.stdout

    added = cli("group", "add", "results", str(one.pk), text.uuid[:8], home=home)
    assert added.exit_code == 0, added.output
    assert "Added 2 node(s) to group 'results'" in added.stdout
    twice = cli("group", "add", "results", str(one.pk), home=home)
    assert twice.exit_code == 0, twice.output

    listed = json.loads(cli("group", "list", "--json", home=home).stdout)
    assert [(g["label"], g["nodes"]) for g in listed] == [("results", 2)]
    assert "results" in cli("group", "list", home=home).stdout

    shown = json.loads(cli("group", "show", "results", "--json", home=home).stdout)
    assert [(n["pk"], n["value"]) for n in shown["nodes"]] == [(one.pk, 1), (text.pk, "hello")]
    table = cli("group", "show", "results", home=home).stdout
    assert "greeting" in table
    assert "hello" in table
    with Runtime(home):
        assert {node.uuid for node in Group.get("results").nodes} == {one.uuid, text.uuid}


def test_group_errors_are_one_line(cli: Cli, tmp_path: Path) -> None:
    with Runtime(tmp_path / "home") as runtime:
        one = Int(1).store()
        home = runtime.home
    missing_group = cli("group", "show", "nowhere", home=home)
    assert missing_group.exit_code == 1
    [line] = missing_group.stderr.splitlines()
    assert "no group labelled 'nowhere'" in line
    missing_node = cli("group", "add", "g", str(one.pk), "424242", home=home)
    assert missing_node.exit_code == 1
    [line] = missing_node.stderr.splitlines()
    assert "no node with pk 424242" in line
    assert "nothing was added" in line
    assert json.loads(cli("group", "list", "--json", home=home).stdout) == []
    for verb in (("create", " "), ("add", "", str(one.pk)), ("show", ""), ("show", " ")):
        empty = cli("group", *verb, home=home)
        assert empty.exit_code == 2, (verb, empty.output)
        [line] = empty.stderr.splitlines()
        assert "a group label must not be empty" in line, line
