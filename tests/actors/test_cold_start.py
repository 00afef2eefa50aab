"""A cold start (a new Python opens a runtime, runs one workfunction, exits) imports only what
that needs and writes nothing to stdout, on a new home, an existing one and an old schema.

Each test runs a real program in a new interpreter: what it imported, whether the collector
was left as found, is only visible there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from provenance.migrations import HEAD_REVISION
from provenance.storage import Storage, sqlite_url
from tests.actors.daemon.helpers import REPOSITORY
from tests.helpers import migrate_to

PROGRAM_TIMEOUT = 120.0

#: Modules a script that runs one workfunction on SQLite must not import: each costs its cold
#: start, and none serves it (migrations, PostgreSQL, the CLI and its console, the daemon, the
#: checkpoint store of durable runs, work chains, queries).
NOT_NEEDED = (
    "alembic",
    "psycopg",
    "psycopg_pool",
    "sqlalchemy.dialects.postgresql",
    "structlog",
    "structlog.dev",
    "rich",
    "typer",
    "psutil",
    "portalocker",
    "msgpack",
    "actors.cli",
    "actors.daemon",
    "actors.web",
    "actors.durable",
    "actors.workchain",
    "persistence.actor",
    "persistence.codec",
    "persistence.file_adoption",
    "persistence.frame",
    "persistence.held_locks",
    "persistence.legacy_record",
    "persistence.payload",
    "persistence.pg_adoption",
    "persistence.pg_claim_sql",
    "persistence.pg_claims",
    "persistence.pg_database",
    "persistence.pg_fence",
    "persistence.pg_intents",
    "persistence.pg_rows",
    "persistence.pickle_persistence",
    "persistence.postgres_store",
    "provenance.querybuilder",
    "provenance.archive",
)

#: One workfunction on the home given, then a JSON report of the interpreter's state.
_SCRIPT = textwrap.dedent(
    """
    import gc, json, sys
    from actors import Runtime, workfunction
    from provenance import Int

    @workfunction
    def add(a, b):
        return a + b

    with Runtime(sys.argv[1]) as runtime:
        assert runtime.run(add, Int(1), Int(2)).value == 3
    report = {"modules": sorted(sys.modules), "collector_enabled": gc.isenabled()}
    sys.stderr.write("REPORT " + json.dumps(report) + "\\n")
    """
)


def _run(script: str, *args: str) -> tuple[str, dict[str, object]]:
    """Run ``script`` in a new Python; its stdout and the report it wrote to stderr."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=REPOSITORY,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
        capture_output=True,
        text=True,
        timeout=PROGRAM_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    reports = [line for line in done.stderr.splitlines() if line.startswith("REPORT ")]
    assert len(reports) == 1, done.stderr[-2000:]
    report: dict[str, object] = json.loads(reports[0].removeprefix("REPORT "))
    return done.stdout, report


def _imported_but_not_needed(report: dict[str, object]) -> list[str]:
    modules = report["modules"]
    assert isinstance(modules, list)
    return sorted(
        name
        for name in modules
        if any(name == heavy or name.startswith(f"{heavy}.") for heavy in NOT_NEEDED)
    )


def test_a_script_on_a_new_home_migrates_it_silently_and_imports_only_what_it_needs(
    home: Path,
) -> None:
    stdout, report = _run(_SCRIPT, str(home))
    assert stdout == ""
    assert _imported_but_not_needed(report) == []
    assert report["collector_enabled"] is True  # paused during the import only
    storage = Storage(sqlite_url(home / "provenance.sqlite"))
    try:
        assert storage.current_revision() == HEAD_REVISION
    finally:
        storage.dispose()


def test_a_script_on_an_existing_home_imports_only_what_it_needs(home: Path) -> None:
    _run(_SCRIPT, str(home))
    stdout, report = _run(_SCRIPT, str(home))
    assert stdout == ""
    assert _imported_but_not_needed(report) == []


#: What a script on an existing SQLite home does not import either: the schema is checked and
#: the provenance is written on the ``sqlite3`` driver; SQLAlchemy (Core, the ORM, the models)
#: is for queries, PostgreSQL and creating or upgrading a schema.
NOT_NEEDED_ON_AN_EXISTING_SQLITE_HOME = (
    "sqlalchemy",
    "provenance.models",
    "provenance.schema",
    "provenance.core_rows",
    "provenance.raw_reads",
)


def test_a_script_on_an_existing_sqlite_home_imports_no_sqlalchemy(home: Path) -> None:
    _run(_SCRIPT, str(home))
    _stdout, report = _run(_SCRIPT, str(home))
    modules = report["modules"]
    assert isinstance(modules, list)
    imported = sorted(
        name
        for name in modules
        if any(
            name == heavy or name.startswith(f"{heavy}.")
            for heavy in NOT_NEEDED_ON_AN_EXISTING_SQLITE_HOME
        )
    )
    assert imported == []


def test_a_script_on_an_old_schema_upgrades_it_without_writing_to_stdout(home: Path) -> None:
    """Only then is Alembic imported, and its migrations print nothing either."""
    home.mkdir()
    migrate_to(sqlite_url(home / "provenance.sqlite"), "0001")
    stdout, report = _run(_SCRIPT, str(home))
    assert stdout == ""
    assert "alembic" in _imported_but_not_needed(report)
    storage = Storage(sqlite_url(home / "provenance.sqlite"))
    try:
        assert storage.current_revision() == HEAD_REVISION
    finally:
        storage.dispose()


def _collector_after_import(before: str) -> dict[str, object]:
    """The collector's state after ``before`` ran, then the engine was imported."""
    script = (
        "import gc, json, sys\n"
        f"{before}\n"
        "import actors, provenance, persistence\n"
        "from actors import Runtime\n"
        "report = {'modules': [], 'collector_enabled': gc.isenabled(),\n"
        "          'frozen': gc.get_freeze_count(),\n"
        "          'young': len(gc.get_objects(0)) + len(gc.get_objects(1))}\n"
        "sys.stderr.write('REPORT ' + json.dumps(report) + '\\n')\n"
    )
    return _run(script)[1]


def test_importing_the_engine_leaves_nothing_in_the_young_generations_and_nothing_frozen() -> None:
    """Its objects would otherwise be traversed by the next collections, to no avail."""
    report = _collector_after_import("pass")
    assert report["collector_enabled"] is True
    assert report["frozen"] == 0
    young = report["young"]
    assert isinstance(young, int)
    assert young < 1_000  # the engine's import makes about 100,000


def test_importing_the_engine_leaves_a_disabled_collector_disabled() -> None:
    assert _collector_after_import("gc.disable()")["collector_enabled"] is False


def test_importing_the_engine_keeps_what_the_program_froze_frozen() -> None:
    report = _collector_after_import("gc.freeze()\nfrozen = gc.get_freeze_count()")
    assert report["collector_enabled"] is True
    frozen = report["frozen"]
    assert isinstance(frozen, int)
    assert frozen > 1_000  # Python's own objects at start, still frozen


def _freeze_count_at_exit(body: str, home: Path) -> int:
    """The objects frozen when the interpreter's last exit handler runs (registered first, it
    runs after the engine's)."""
    script = (
        "import atexit, gc, json, sys\n"
        "atexit.register(lambda: sys.stderr.write('REPORT ' + json.dumps("
        "{'frozen': gc.get_freeze_count()}) + '\\n'))\n"
        f"{body}\n"
    )
    _stdout, report = _run(script, str(home))
    frozen = report["frozen"]
    assert isinstance(frozen, int)
    return frozen


def test_a_program_that_ran_a_runtime_spares_the_final_collections_its_objects(
    home: Path,
) -> None:
    """Traversing SQLAlchemy's and the engine's objects once more at exit took a quarter of a
    cold start: they are frozen once every runtime is shut down."""
    body = "from actors import Runtime\nwith Runtime(sys.argv[1]):\n    pass"
    assert _freeze_count_at_exit(body, home) > 10_000


def test_a_program_that_only_imported_the_engine_exits_as_python_does(home: Path) -> None:
    assert _freeze_count_at_exit("import actors, provenance", home) == 0
