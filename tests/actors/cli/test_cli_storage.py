"""``workactors storage info|maintain|backup`` on real homes, a running daemon and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from actors import Runtime
from actors.daemon import start_daemon, stop_daemon
from provenance import Float, Int, Str
from provenance.storage import Storage, sqlite_url
from tests.actors.cli.conftest import Cli, PopulatedHome
from tests.actors.daemon.helpers import REPOSITORY, ended, wait_for
from tests.actors.daemon.processes import Marked, marks_of

TIMEOUT = 60.0


def test_info_counts_nodes_processes_by_state_and_checkpoints(
    cli: Cli, populated_home: PopulatedHome
) -> None:
    result = cli("storage", "info", "--json")

    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["database"]["dialect"] == "sqlite"
    assert info["database"]["bytes"] > 0
    assert info["processes_by_state"]["excepted"] == 1
    assert info["processes_by_state"]["finished"] == info["processes"] - 1
    assert info["nodes"] > info["processes"]
    assert set(info["checkpoints"]) == {"running", "finished", "failed"}
    table = cli("storage", "info")
    assert table.exit_code == 0, table.output
    assert "1 excepted" in table.stdout


def test_info_of_a_home_without_a_database_says_so_and_creates_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    result = cli("storage", "info", home=tmp_path / "empty")

    assert result.exit_code == 1
    assert "there is no workactors database at" in result.stderr
    assert not (tmp_path / "empty").exists()


def test_maintain_vacuums_and_prunes_finished_checkpoints(cli: Cli, tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Runtime(home) as runtime:
        runtime.run(Marked, x=Int(1), marks=Str(str(tmp_path)), steps=Int(2))
    finished = home / "running" / "finished"
    for pid in range(5):
        (finished / f"{pid}.pickle").write_bytes(b"old checkpoint")

    result = cli("storage", "maintain", "--keep-count", "2", "--json", home=home)

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["statements"][:2] == ["VACUUM", "ANALYZE"]
    assert report["pruned_finished"] == 3
    assert len(list(finished.glob("*.pickle"))) == 2


def test_backup_while_the_daemon_runs_is_a_consistent_workactors_database(
    cli: Cli, daemon_home: Path, tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    start_daemon(daemon_home, 1, cwd=REPOSITORY)
    with Runtime(daemon_home) as runtime:
        inputs = {"x": Int(3), "marks": Str(str(marks)), "nap": Float(0.01), "steps": Int(60)}
        pid = runtime.queue_up(Marked, inputs)
        wait_for(lambda: len(marks_of(marks, pid)) >= 5, TIMEOUT, "the first steps")

        result = cli("storage", "backup", str(tmp_path / "copy.sqlite"), home=daemon_home)

        assert result.exit_code == 0, result.output
        assert "Backed up" in result.stdout
        wait_for(lambda: ended(daemon_home, pid), TIMEOUT, f"the end of {pid}")
    stop_daemon(daemon_home, TIMEOUT)
    copy = tmp_path / "copy.sqlite"
    assert copy.stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(copy) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        [state] = connection.execute(
            "SELECT json_extract(attributes, '$.process_state') FROM db_node WHERE id = ?", (pid,)
        ).fetchone()
    assert state in {"created", "running", "waiting"}  # a snapshot taken while it ran
    Storage(sqlite_url(copy)).dispose()  # opens as a workactors database of this version

    again = cli("storage", "backup", str(copy), home=daemon_home)
    assert again.exit_code == 1
    assert "exists already" in again.stderr


@pytest.mark.postgres
def test_backup_of_postgresql_prints_the_pg_dump_command_and_exits_1(
    cli: Cli, tmp_path: Path, postgres_url: str
) -> None:
    with Runtime(tmp_path / "pg", database_url=postgres_url) as runtime:
        runtime.run(Marked, x=Int(1), marks=Str(str(tmp_path)), steps=Int(1))
    info = cli("--database-url", postgres_url, "storage", "info", "--json", home=tmp_path / "pg")
    assert info.exit_code == 0, info.output
    assert json.loads(info.stdout)["processes_by_state"] == {"finished": 1}

    result = cli(
        "--database-url", postgres_url, "storage", "backup", "out.dump", home=tmp_path / "pg"
    )

    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert "pg_dump --dbname 'postgresql://postgres@127.0.0.1" in line
    assert "--schema test_" in line
    assert "--file 'out.dump'" in line
    maintained = cli(
        "--database-url", postgres_url, "storage", "maintain", "--json", home=tmp_path / "pg"
    )
    assert maintained.exit_code == 0, maintained.output
    assert 'VACUUM ANALYZE "db_node"' in json.loads(maintained.stdout)["statements"]
