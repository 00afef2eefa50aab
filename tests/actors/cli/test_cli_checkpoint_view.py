"""``process show`` says what a process's checkpoint is, read without loading it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from actors import Runtime
from provenance import Int
from tests.actors.cli.conftest import Cli, add
from tests.actors.workchains import Loop


def _shown_json(cli: Cli, home: Path, pk: int | None) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(cli("process", "show", str(pk), "--json", home=home).stdout)
    return shown


def test_a_finished_durable_process_shows_its_retired_checkpoint(cli: Cli, tmp_path: Path) -> None:
    with Runtime(tmp_path / "home", durable=True) as runtime:
        _result, node = runtime.run_get_node(Loop, n=Int(2))
    shown = cli("process", "show", str(node.pk), home=tmp_path / "home").stdout
    (line,) = [line for line in shown.splitlines() if line.startswith("checkpoint")]
    assert "finished/, format 2, finished," in line
    assert line.rstrip().endswith("ago")
    document = json.loads(
        cli("process", "show", str(node.pk), "--json", home=tmp_path / "home").stdout
    )
    assert document["checkpoint"]["folder"] == "finished"
    assert document["checkpoint"]["envelope"]["class_path"] == "tests.actors.workchains.Loop"
    assert document["checkpoint"]["envelope"]["pid"] == node.pk
    assert document["checkpoint"]["problem"] is None


def test_a_submitted_process_shows_the_checkpoint_waiting_for_a_worker(
    cli: Cli, tmp_path: Path
) -> None:
    with Runtime(tmp_path / "home") as runtime:
        node = runtime.submit(Loop, n=Int(2))
    document = json.loads(
        cli("process", "show", str(node.pk), "--json", home=tmp_path / "home").stdout
    )
    assert document["checkpoint"]["folder"] == "running"
    assert document["checkpoint"]["envelope"]["process_state"] == "created"


def test_a_damaged_checkpoint_says_why_it_cannot_be_read_and_imports_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    with Runtime(tmp_path / "home") as runtime:
        node = runtime.submit(Loop, n=Int(2))
    path = tmp_path / "home" / "running" / f"{node.pk}.pickle"
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF  # one bit of the payload: the signature no longer matches
    path.write_bytes(bytes(data))
    before = set(sys.modules)
    shown = cli("process", "show", str(node.pk), home=tmp_path / "home").stdout
    (line,) = [line for line in shown.splitlines() if line.startswith("checkpoint")]
    assert "running/" in line
    assert "cannot be read" in line
    assert not {name for name in set(sys.modules) - before if name.startswith("tests.")}


def test_a_blocking_run_has_no_checkpoint(cli: Cli, tmp_path: Path) -> None:
    with Runtime(tmp_path / "home"):
        _result, node = add.run_get_node(Int(1), Int(2))
    document = json.loads(
        cli("process", "show", str(node.pk), "--json", home=tmp_path / "home").stdout
    )
    assert document["checkpoint"] is None
