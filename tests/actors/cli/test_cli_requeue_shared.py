"""The queue of a shared (PostgreSQL) database seen from the CLI: ``daemon status`` lists the
checkpoints waiting for a worker from the database's rows, ``process show`` describes a row's
envelope, and ``process requeue`` lists and requeues failed rows (issue 11: nothing of this
may read the home's files when the checkpoints live in the database).

Real PostgreSQL (a schema of its own), a real daemon, the CLI run in this process.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from actors import ProcessState, Runtime
from actors.daemon import start_daemon
from actors.utils import load_class
from persistence import pg_queue
from provenance import Int
from tests.actors.cli.conftest import MODULE, Cli
from tests.actors.cli.test_cli_requeue import TIMEOUT
from tests.actors.daemon.helpers import state_of, wait_for


@pytest.fixture
def shared_env(shared_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The environment of a machine on the shared database, with a key file of its own."""
    key = tmp_path / "shared.key"
    key.write_bytes(b"k" * 48)
    key.chmod(0o600)
    monkeypatch.setenv("WORKACTORS_CHECKPOINT_KEY_FILE", str(key))
    monkeypatch.setenv("WORKACTORS_DATABASE_URL", shared_database)
    return shared_database


def _failed_row_pids(url: str) -> list[int]:
    return [row.pid for row in pg_queue.failed(url)]


def test_a_failed_row_is_listed_described_and_requeued_once_its_code_is_back(
    cli: Cli,
    daemon_home: Path,
    user_code: Path,
    shared_env: str,
) -> None:
    url = shared_env
    env: dict[str, str | None] = {"WORKACTORS_DATABASE_URL": url}
    module = user_code / f"{MODULE}.py"
    with Runtime(daemon_home, database_url=url) as runtime:
        pid = runtime.queue_up(load_class(f"{MODULE}.Tripled"), {"x": Int(14)})
        assert not list((daemon_home / "running").glob("*.pickle"))  # the row is the queue

        status = cli("daemon", "status", "--json", home=daemon_home, env=env)
        assert status.exit_code == 3  # no daemon runs yet
        document = json.loads(status.stdout)
        assert [entry["pk"] for entry in document["waiting_checkpoints"]] == [pid]
        assert document["waiting_checkpoints"][0]["folder"] == "postgresql:running"
        assert document["waiting_checkpoints"][0]["envelope"]["class_path"] == (f"{MODULE}.Tripled")
        table = cli("daemon", "status", home=daemon_home, env=env).stdout
        assert "Waiting for a worker in the shared database: 1 checkpoint(s)" in table

        module.rename(module.with_suffix(".away"))  # the code is changed before a worker runs
        start_daemon(daemon_home, 1, cwd=user_code, database_url=url)
        wait_for(lambda: _failed_row_pids(url) == [pid], TIMEOUT, f"{pid} failing")
        wait_for(lambda: state_of(pid) is ProcessState.EXCEPTED, TIMEOUT, f"{pid} excepted")

        shown_run = cli("process", "show", str(pid), "--json", home=daemon_home, env=env)
        assert shown_run.exit_code == 0, shown_run.output
        shown = json.loads(shown_run.stdout)
        assert shown["checkpoint"]["folder"] == "postgresql:failed"
        assert shown["checkpoint"]["envelope"]["pid"] == pid
        listed = cli("process", "requeue", "--list", "--json", home=daemon_home, env=env)
        assert listed.exit_code == 0, listed.output
        [entry] = json.loads(listed.stdout)
        assert entry["pk"] == pid
        assert MODULE in entry["reason"]

        sys.modules.pop(MODULE, None)  # imported here by queue_up, before the code was moved
        too_early = cli("process", "requeue", str(pid), home=daemon_home, env=env)
        assert too_early.exit_code == 1
        assert f"process {pid} cannot be requeued yet" in too_early.stderr
        assert _failed_row_pids(url) == [pid]  # a refused requeue changes nothing

        module.with_suffix(".away").rename(module)  # the user restores the code
        requeued = cli("process", "requeue", str(pid), "--json", home=daemon_home, env=env)
        assert requeued.exit_code == 0, requeued.output
        assert json.loads(requeued.stdout)[0]["ok"] is True
        wait_for(lambda: state_of(pid) is ProcessState.FINISHED, TIMEOUT, f"{pid} finishing")
        node = runtime.load_node(pid)
        assert node.get_outputs_dict()["y"].value == 42  # type: ignore[attr-defined]
        again = cli("process", "requeue", str(pid), home=daemon_home, env=env)
        assert again.exit_code == 1
        assert "not failed" in again.stderr
    assert _failed_row_pids(url) == []
    assert (
        json.loads(cli("process", "requeue", "--list", "--json", home=daemon_home, env=env).stdout)
        == []
    )


def test_requeue_of_a_pk_without_a_row_says_where_to_look(
    cli: Cli, tmp_path: Path, shared_env: str
) -> None:
    result = cli(
        "process",
        "requeue",
        "7",
        home=tmp_path / "home",
        env={"WORKACTORS_DATABASE_URL": shared_env},
    )
    assert result.exit_code == 1
    assert "process 7 has no checkpoint in the database" in result.stderr
    assert "`workactors process requeue --list`" in result.stderr
