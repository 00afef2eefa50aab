"""``process pause|play|kill`` with several pks, ``--all`` and ``--json``."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from actors import ProcessState, Runtime
from actors.cli import control
from actors.control import Action
from provenance import Int
from tests.actors.cli.conftest import Cli, add, launch_waiting
from tests.actors.daemon.helpers import wait_for
from tests.actors.workchains import gate

TIMEOUT = 60.0


def test_several_pks_are_paused_played_and_killed_with_one_outcome_each(
    cli: Cli, tmp_path: Path
) -> None:
    names = [f"gate-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with Runtime(tmp_path / "live") as runtime:
        launched = launch_waiting(runtime, names)
        pids = [process.pid for process, _done in launched]
        home = runtime.home
        try:
            paused = cli("process", "pause", *map(str, pids), "--json", home=home)
            assert paused.exit_code == 0, paused.output
            assert [(o["pk"], o["result"], o["ok"]) for o in json.loads(paused.stdout)] == [
                (pid, "done", True) for pid in pids
            ]
            wait_for(
                lambda: cli("process", "list", home=home).stdout.count("(paused)") == 2,
                TIMEOUT,
                "both paused",
            )

            played = cli("process", "play", "--all", "--json", home=home)
            assert played.exit_code == 0, played.output
            assert sorted(o["pk"] for o in json.loads(played.stdout)) == pids

            missing = 987654
            killed = cli("process", "kill", str(pids[0]), str(missing), "--json", home=home)
            assert killed.exit_code == 1
            first, second = json.loads(killed.stdout)
            assert (first["pk"], first["result"], first["ok"]) == (pids[0], "ended", True)
            assert (second["pk"], second["ok"]) == (missing, False)
            assert f"no node with pk {missing}" in second["message"]

            again = cli("process", "kill", str(pids[0]), home=home)
            assert again.exit_code == 1
            [line] = again.stderr.splitlines()
            assert f"process {pids[0]} has already ended: it is KILLED" in line
        finally:
            for name in names:
                gate(name).set()
        assert launched[1][1].result(timeout=TIMEOUT)["value"].value == 7
        assert runtime.load_node(pids[0]).process_state is ProcessState.KILLED  # type: ignore[attr-defined]


def test_kill_all_with_nothing_running_says_so(cli: Cli, tmp_path: Path) -> None:
    with Runtime(tmp_path / "quiet") as runtime:
        result = cli("process", "kill", "--all", home=runtime.home)
    assert result.exit_code == 0, result.output
    assert "No process to kill" in result.stdout


def test_shell_completion_is_offered() -> None:
    from typer.testing import CliRunner

    from actors.cli import app

    result = CliRunner().invoke(app, ["--help"])
    assert "--install-completion" in result.stdout
    assert "--show-completion" in result.stdout


def test_a_kill_that_lands_after_the_last_step_is_not_reported_as_a_kill(tmp_path: Path) -> None:
    """Found by a user review: a process that finished its (only, long) step while a kill was
    on its way was reported ``ended``, "Process N killed", ok: it was not killed."""
    with Runtime(tmp_path / "home") as runtime:
        _result, node = runtime.run_get_node(add, Int(1), Int(2))
        asked = control.Outcome(node.pk or 0, Action.KILL, "done", "asked", reached=True)
        [outcome] = control._wait_killed(runtime, [asked], timeout=5.0)
    assert outcome.failed
    assert outcome.as_json()["ok"] is False
    assert outcome.message == (
        f"process {node.pk} ended FINISHED before the kill took effect (a kill lands between "
        "steps; its last step was already running)"
    )
