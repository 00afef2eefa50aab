"""``workactors archive create|import|inspect`` as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

from actors import Runtime
from provenance import Group, Int, Str
from provenance.archive import create_archive
from tests.actors.cli.conftest import Cli, PopulatedHome
from tests.provenance.test_archive import _rewrite


def test_an_archive_is_created_inspected_and_imported_twice(
    cli: Cli, populated_home: PopulatedHome, tmp_path: Path
) -> None:
    with Runtime(tmp_path / "source") as runtime:
        member = Str("kept").store()
        Group.get_or_create("kept")[0].add_nodes([member])
        total = Int(3).store()
        source = runtime.home
    path = tmp_path / "out.zip"
    created = cli(
        "archive", "create", "-N", f"{total.pk}", "-G", "kept", str(path), "--json", home=source
    )
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout)["nodes"] == 2

    inspected = cli("archive", "inspect", str(path), "--json")
    assert inspected.exit_code == 0, inspected.output
    info = json.loads(inspected.stdout)
    assert (info["version"], info["groups"], info["counts"]["nodes"]) == (1, ["kept"], 2)
    assert "Format version" in cli("archive", "inspect", str(path)).stdout

    target = tmp_path / "target"
    first = cli("archive", "import", str(path), home=target)
    assert first.exit_code == 0, first.output
    assert "added 2 nodes, 0 links, 0 logs, 1 groups" in first.stdout
    again = cli("archive", "import", str(path), home=target)
    assert "added 0 nodes, 0 links, 0 logs, 0 groups" in again.stdout
    shown = json.loads(cli("group", "show", "kept", "--json", home=target).stdout)
    assert [node["value"] for node in shown["nodes"]] == ["kept"]

    processes = tmp_path / "processes.zip"
    chain = cli("archive", "create", "-N", str(populated_home.chain), str(processes))
    assert chain.exit_code == 0, chain.output
    assert json.loads(cli("archive", "inspect", str(processes), "--json").stdout)["counts"][
        "nodes"
    ] >= 3 + len(populated_home.chain_children)


def test_archive_mistakes_are_one_line(cli: Cli, tmp_path: Path) -> None:
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really")
    for arguments, status, says in [
        (("archive", "inspect", str(broken)), 1, "not a readable zip archive"),
        (("archive", "import", str(broken)), 1, "not a readable zip archive"),
        (("archive", "inspect", str(tmp_path / "none.zip")), 1, "no archive at"),
        (("archive", "create", str(tmp_path / "x.zip")), 2, "give nodes (-N PK) or groups"),
        (
            ("archive", "create", "-N", "424242", str(tmp_path / "x.zip")),
            1,
            "no node with pk 424242",
        ),
        (("archive", "create", "-N", "xy", str(tmp_path / "x.zip")), 2, "valid integer"),
        (("archive", "create", "-N", "1", str(broken)), 1, "exists; choose another name"),
        (
            ("archive", "create", "-N", "1", str(tmp_path / "none" / "x.zip")),
            1,
            "is not a folder; cannot write x.zip",
        ),
        (("archive", "import", str(tmp_path / "none.zip")), 1, "no archive at"),
    ]:
        result = cli(*arguments, home=tmp_path / "home")
        assert result.exit_code == status, (arguments, result.output)
        [line] = result.stderr.splitlines()
        assert says in line, line
        assert "workactors home" not in line, line  # the archive's problem, not the home's


def test_inspect_warns_about_a_data_hash_that_is_not_its_content(cli: Cli, tmp_path: Path) -> None:
    with Runtime(tmp_path / "source") as runtime:
        value = Int(6).store()
        assert value.pk is not None
        good = tmp_path / "good.zip"
        create_archive(good, [value.pk], storage=runtime.storage)
    forged = _rewrite(
        good,
        tmp_path / "forged.zip",
        lambda members: members.update(
            {"nodes.jsonl": members["nodes.jsonl"].replace(b'"value":6', b'"value":999')}
        ),
    )
    assert "Warning" not in cli("archive", "inspect", str(good)).stderr
    result = cli("archive", "inspect", str(forged))
    assert result.exit_code == 0, result.output
    [line] = result.stderr.splitlines()
    assert "1 data node(s) carry a hash that is not their content's (edited or forged" in line
    assert value.uuid in line
    shown = json.loads(cli("archive", "inspect", str(forged), "--json").stdout)
    assert shown["mismatched_hashes"] == [value.uuid]
