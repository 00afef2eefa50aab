"""``process requeue``: a checkpoint refused for missing code runs once the code is back."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from actors import ProcessState, Runtime
from actors.daemon import start_daemon
from actors.utils import load_class
from provenance import Int
from tests.actors.cli.conftest import MODULE, Cli
from tests.actors.daemon.helpers import ended, state_of, wait_for

TIMEOUT = 60.0


def test_a_checkpoint_whose_code_was_missing_is_listed_and_requeued_once_it_is_back(
    cli: Cli, daemon_home: Path, user_code: Path
) -> None:
    module = user_code / f"{MODULE}.py"
    with Runtime(daemon_home) as runtime:
        pid = runtime.queue_up(load_class(f"{MODULE}.Tripled"), {"x": Int(14)})
        module.rename(module.with_suffix(".away"))  # the code is changed before the daemon runs

        start_daemon(daemon_home, 1, cwd=user_code)
        wait_for(lambda: ended(daemon_home, pid), TIMEOUT, f"{pid} moving to failed/")
        assert (runtime.failed_directory / f"{pid}.pickle").exists()
        # The worker marks the node after the move.
        wait_for(lambda: state_of(pid) is ProcessState.EXCEPTED, TIMEOUT, f"{pid} excepted")

        listed = cli("process", "requeue", "--list", "--json", home=daemon_home)
        assert listed.exit_code == 0, listed.output
        [entry] = json.loads(listed.stdout)
        assert entry["pk"] == pid
        assert MODULE in entry["reason"]
        assert str(pid) in cli("process", "requeue", "--list", home=daemon_home).stdout

        sys.modules.pop(MODULE, None)
        too_early = cli("process", "requeue", str(pid), home=daemon_home)
        assert too_early.exit_code == 1
        [line] = too_early.stderr.splitlines()
        assert f"process {pid} cannot be requeued yet" in line
        assert MODULE in line

        module.with_suffix(".away").rename(module)  # the user restores the code
        requeued = cli("process", "requeue", str(pid), "--json", home=daemon_home)

        assert requeued.exit_code == 0, requeued.output
        assert json.loads(requeued.stdout) == [
            {
                "pk": pid,
                "ok": True,
                "message": f"Process {pid} requeued (created); the daemon resumes it now",
            }
        ]
        wait_for(lambda: state_of(pid) is ProcessState.FINISHED, TIMEOUT, f"{pid} finishing")
        node = runtime.load_node(pid)
        assert node.get_outputs_dict()["y"].value == 42  # type: ignore[attr-defined]
    assert not (daemon_home / "running" / "failed" / f"{pid}.pickle").exists()
    assert json.loads(cli("process", "requeue", "--list", "--json", home=daemon_home).stdout) == []


def test_requeue_of_a_pk_without_a_failed_checkpoint_says_where_to_look(
    cli: Cli, tmp_path: Path
) -> None:
    result = cli("process", "requeue", "7", home=tmp_path / "home")
    assert result.exit_code == 1
    assert "no checkpoint of process 7 in" in result.stderr
    assert "`workactors process requeue --list`" in result.stderr
