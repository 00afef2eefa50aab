"""The console script as users run it: logging kept off stdout, and errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.actors.cli.conftest import Cli


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m actors.cli ARGS`` as a user's shell runs it, without the test's settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"WORKACTORS_HOME", "WORKACTORS_DATABASE_URL", "FORCE_COLOR"}
    }
    return subprocess.run(
        [sys.executable, "-m", "actors.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


run_console_script = _run_cli


def test_json_on_a_new_home_is_the_only_thing_on_stdout_although_the_database_is_created(
    tmp_path: Path,
) -> None:
    completed = _run_cli("--home", str(tmp_path / "new"), "process", "list", "--json")

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == []
    assert "provenance.migrate" not in completed.stdout + completed.stderr
    assert (tmp_path / "new" / "provenance.sqlite").exists()


def test_a_missing_pk_from_the_console_script_is_one_line_on_stderr_and_exit_1(
    tmp_path: Path,
) -> None:
    completed = _run_cli("--home", str(tmp_path), "process", "show", "7")

    assert completed.returncode == 1
    assert completed.stdout == ""
    assert completed.stderr.count("\n") == 1
    assert "no node with pk 7" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_a_corrupt_database_is_reported_as_a_storage_error_with_exit_1(
    cli: Cli, tmp_path: Path
) -> None:
    (tmp_path / "provenance.sqlite").write_bytes(b"this is not a database" * 100)

    result = cli("process", "list", home=tmp_path)

    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: cannot use the database at")
    assert "not a database" in line
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    ("url", "scheme"), [("nosuchdb://nowhere", "nosuchdb"), ("mysql://a@b/c", "mysql")]
)
def test_an_unusable_database_url_is_reported_without_a_traceback(
    cli: Cli, url: str, scheme: str
) -> None:
    result = cli("--database-url", url, "process", "list")

    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert f"does not support the database URL scheme '{scheme}'" in line
    assert "postgresql://USER@HOST" in line
    assert "Traceback" not in result.output


def test_the_console_script_without_arguments_prints_help() -> None:
    result = _run_cli()

    assert "process" in result.stdout
    assert "node" in result.stdout
    assert "--home" in result.stdout


def test_workactors_bench_is_the_benchmark_harness() -> None:
    from typer.testing import CliRunner

    from actors.cli import app

    result = CliRunner().invoke(app, ["bench", "--list"])
    assert result.exit_code == 0, result.output
    assert "workfunction_add" in result.stdout
    assert "daemon_steps" in result.stdout
