"""Bad input to every verb: one line on stderr, exit status 1 or 2, never a traceback.

Each row is what a user could type. Usage errors (a value out of range, a word where a number
goes) exit 2 and name the ``--help`` that explains; errors found while running (a missing pk,
an unusable database or home) exit 1.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from actors.cli import app
from tests.actors.cli.conftest import PLAIN_ENV, PopulatedHome
from tests.actors.cli.test_cli_entry_point import run_console_script

HUGE = "99999999999999999999999"
#: Where each row's home is: the populated home, a regular file, or a path under a file.
POPULATED, A_FILE, UNDER_A_FILE = "populated", "file", "under-file"

CASES: list[tuple[str, tuple[str, ...], int, str]] = [
    # (home, arguments, exit status, a part of the message)
    (POPULATED, ("process", "show", HUGE), 2, "less than or equal to 9223372036854775807"),
    (POPULATED, ("process", "show", "0"), 2, "greater than or equal to 1"),
    (POPULATED, ("process", "show", "abc"), 2, "valid integer"),
    (POPULATED, ("process", "show", "424242"), 1, "no node with pk 424242"),
    (POPULATED, ("process", "report", HUGE), 2, "PK..."),
    (POPULATED, ("process", "report", "1", "--levelname", "LOUD"), 2, "--levelname"),
    (POPULATED, ("process", "report", "1", "--max-depth", "-1"), 2, "--max-depth"),
    (POPULATED, ("process", "list", "-n", "99999999999999999999"), 2, "--limit"),
    (POPULATED, ("process", "list", "-n", "0"), 2, "--limit"),
    (POPULATED, ("process", "list", "--state", "sleeping"), 2, "--state"),
    (POPULATED, ("process", "kill", HUGE), 2, "PK..."),
    (POPULATED, ("process", "kill"), 2, "give the pks to kill, or --all"),
    (POPULATED, ("process", "kill", "1", "--all"), 2, "give the pks to kill, or --all"),
    (POPULATED, ("process", "kill", "1", "--timeout", "-1"), 2, "--timeout"),
    (POPULATED, ("process", "pause", HUGE), 2, "PK..."),
    (POPULATED, ("process", "play", "0"), 2, "PK..."),
    (POPULATED, ("process", "watch", HUGE, "--once"), 2, "PK"),
    (POPULATED, ("process", "watch", "1", "--interval", "0"), 2, "--interval"),
    (POPULATED, ("process", "requeue", HUGE), 2, "PK..."),
    (POPULATED, ("process", "requeue"), 2, "give the pks to requeue, or --list"),
    (POPULATED, ("node", "show", HUGE), 2, "PK..."),
    (POPULATED, ("node", "show", "424242"), 1, "no node with pk 424242"),
    (POPULATED, ("node", "graph", HUGE), 2, "PK..."),
    (POPULATED, ("node", "graph", "1", "--depth", "-1"), 2, "--depth"),
    (POPULATED, ("node", "graph", "1", "--format", "gif"), 2, "--format"),
    (POPULATED, ("daemon", "start", "--workers", "0"), 2, "--workers"),
    (POPULATED, ("daemon", "start", "--workers", HUGE), 2, "--workers"),
    (POPULATED, ("daemon", "logs", "-n", "-1"), 2, "--lines"),
    (POPULATED, ("daemon", "incr", "0"), 2, "N"),
    (POPULATED, ("daemon", "decr", HUGE), 2, "N"),
    (POPULATED, ("storage", "backup"), 2, "DEST"),
    (POPULATED, ("storage", "maintain", "--keep-days", "-1"), 2, "--keep-days"),
    (
        POPULATED,
        ("--database-url", "mysql://a@b/c", "process", "list"),
        1,
        "does not support the database URL scheme 'mysql'",
    ),
    (POPULATED, ("--database-url", "nosuchdb://x", "node", "show", "1"), 1, "database"),
    (POPULATED, ("--database-url", "sqlite:////no/such/dir/x.sqlite", "process", "list"), 1, ""),
    (A_FILE, ("process", "list"), 2, "is a file"),
    (A_FILE, ("node", "show", "1"), 2, "is a file"),
    (A_FILE, ("daemon", "start"), 2, "is a file"),
    (A_FILE, ("daemon", "status"), 2, "is a file"),
    (A_FILE, ("daemon", "logs"), 2, "is a file"),
    (A_FILE, ("storage", "info"), 2, "is a file"),
    (UNDER_A_FILE, ("process", "list"), 1, "is a file, not a folder"),
    (UNDER_A_FILE, ("process", "kill", "1"), 1, "is a file, not a folder"),
    (UNDER_A_FILE, ("daemon", "start"), 1, "Not a directory"),
    (UNDER_A_FILE, ("daemon", "restart"), 1, "Not a directory"),
    (UNDER_A_FILE, ("daemon", "incr", "1"), 1, "no daemon runs"),
    (UNDER_A_FILE, ("storage", "info"), 1, "there is no workactors database at"),
    (UNDER_A_FILE, ("storage", "backup", "/tmp/never.sqlite"), 1, "no workactors database"),
    (POPULATED, ("storage", "backup", "/no/such/folder/b.sqlite"), 1, "does not exist"),
    (UNDER_A_FILE, ("process", "requeue", "--list"), 1, "is a file, not a folder"),
    (POPULATED, ("process", "requeue", "3", "--list"), 2, "give the pks to requeue, or --list"),
]


def _home(kind: str, populated: PopulatedHome, tmp_path: Path) -> Path:
    if kind == POPULATED:
        return populated.path
    regular = tmp_path / "a-file"
    regular.write_text("not a folder")
    return regular if kind == A_FILE else regular / "home"


@pytest.mark.parametrize(
    ("home_kind", "arguments", "status", "says"),
    CASES,
    ids=[" ".join((kind, *arguments))[:70] for kind, arguments, _status, _says in CASES],
)
def test_bad_input_is_one_line_on_stderr_with_exit_1_or_2(  # noqa: PLR0917 - parametrized
    populated_home: PopulatedHome,
    tmp_path: Path,
    home_kind: str,
    arguments: tuple[str, ...],
    status: int,
    says: str,
) -> None:
    home = _home(home_kind, populated_home, tmp_path)

    result = CliRunner().invoke(app, ["--home", str(home), *arguments], env=PLAIN_ENV)

    assert result.exit_code == status, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: ")
    assert says in line
    assert "Traceback" not in result.output


def test_the_console_script_never_prints_a_traceback_for_bad_input(tmp_path: Path) -> None:
    regular = tmp_path / "a-file"
    regular.write_text("not a folder")
    runs = [
        (("--home", str(tmp_path / "h"), "process", "show", HUGE), 2),
        (("--home", str(tmp_path / "h"), "process", "list", "-n", "99999999999999999999"), 2),
        (("--home", str(tmp_path / "h"), "--database-url", "mysql://a@b/c", "process", "list"), 1),
        (("--home", str(regular / "h"), "daemon", "start"), 1),
        (("--home", str(tmp_path / "h"), "process", "kill", HUGE), 2),
    ]
    for arguments, status in runs:
        completed = run_console_script(*arguments)
        assert completed.returncode == status, (arguments, completed.stderr)
        assert "Traceback" not in completed.stderr, completed.stderr
        [line] = completed.stderr.splitlines()
        assert line.startswith("Error: "), line
