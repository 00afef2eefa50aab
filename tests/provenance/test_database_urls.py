"""Database URLs users write, the files the embedded database is made of, and a quiet stdout."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from actors import Runtime
from provenance import Int, StorageError, load_node
from provenance.database_urls import (
    backend_name,
    normalize_url,
    normalized_sqlite_url,
    sqlite_file,
)
from provenance.storage import Storage, sqlite_url

# Schemes.


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgres://me@db.example/prov", "postgresql+psycopg"),
        ("postgresql://me@db.example/prov", "postgresql+psycopg"),
        ("postgresql+psycopg://me@db.example/prov", "postgresql+psycopg"),
        ("sqlite:////tmp/x.sqlite", "sqlite+pysqlite"),
        ("sqlite+pysqlite:////tmp/x.sqlite", "sqlite+pysqlite"),
    ],
)
def test_postgres_and_postgresql_schemes_mean_postgresql_through_psycopg(
    url: str, driver: str
) -> None:
    assert normalize_url(url).drivername == driver


@pytest.mark.postgres
@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_a_runtime_stores_through_a_postgres_or_postgresql_url(
    home: Path, postgres_url: str, scheme: str
) -> None:
    url = postgres_url.replace("postgresql+psycopg://", f"{scheme}://", 1)
    with Runtime(home, database_url=url) as rt:
        assert rt.storage.dialect == "postgresql"
        node = Int(5).store()
        assert load_node(node.pk).value == 5  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("mysql://a@b/c", "mysql"),
        ("mysql+pymysql://a:secret@b/c", "mysql+pymysql"),
        ("oracle://a@b/c", "oracle"),
        ("postgresql+asyncpg://a@b/c", "postgresql+asyncpg"),
        ("postgresql+psycopg2://a@b/c", "postgresql+psycopg2"),
    ],
)
def test_an_unsupported_scheme_is_a_storage_error_listing_the_supported_ones(
    home: Path, url: str, scheme: str
) -> None:
    expected = re.escape(f"does not support the database URL scheme '{scheme}'")
    with pytest.raises(StorageError, match=expected):
        Storage(url)
    with pytest.raises(StorageError, match="postgresql://USER@HOST") as excinfo:
        Runtime(home, database_url=url)
    assert "secret" not in str(excinfo.value)


#: Paths whose URL needs escaping, or looks like something else.
AWKWARD_PATHS = [
    "/tmp/x.sqlite",
    "relative/x.sqlite",
    "/tmp/50% done/a?b#c@d:e/x y+z.sqlite",
    "/tmp/é ✓/x.sqlite",
    "/tmp/%41/x.sqlite",
    "//double/slash.sqlite",
]


@pytest.mark.parametrize("path", AWKWARD_PATHS)
def test_a_sqlite_files_url_is_written_and_read_as_sqlalchemy_does_without_it(path: str) -> None:
    """A runtime on SQLite reads its URL without importing SQLAlchemy: to the same effect."""
    url = sqlite_url(path)
    assert url == sa.engine.URL.create("sqlite+pysqlite", database=path).render_as_string(
        hide_password=False
    )
    assert sqlite_file(url) == sa.make_url(url).database == path
    for scheme in ("sqlite", "SQLite+pysqlite"):
        written = url.replace("sqlite+pysqlite", scheme, 1)
        assert sqlite_file(written) == path
        assert normalized_sqlite_url(written) == normalize_url(written).render_as_string(
            hide_password=False
        )
        assert backend_name(written) == "sqlite"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///",
        "sqlite:///:memory:",
        "sqlite:///file:x.db?mode=ro&uri=true",
        "sqlite:////tmp/x.sqlite?timeout=5",
        "sqlite://host/x.sqlite",
        "postgresql://me@db.example/prov",
        "mysql://a@b/c",
        "no url",
    ],
)
def test_any_other_url_is_left_to_sqlalchemys_parser(url: str) -> None:
    assert sqlite_file(url) is None
    assert normalized_sqlite_url(url) is None


def test_the_backend_of_a_url_is_named_with_or_without_sqlalchemy() -> None:
    assert backend_name("postgres://me@db.example/prov") == "postgresql"
    assert backend_name("sqlite:////tmp/x.sqlite?timeout=5") == "sqlite"
    with pytest.raises(StorageError, match="does not support the database URL scheme 'mysql'"):
        backend_name("mysql://a@b/c")


def test_text_that_is_no_url_is_a_storage_error(home: Path) -> None:
    with pytest.raises(StorageError, match="'not a url' is not a database URL; workactors takes"):
        Storage("not a url")


@pytest.mark.postgres
def test_a_postgresql_database_that_does_not_exist_is_reported_with_createdb(
    postgres_url: str,
) -> None:
    url = sa.make_url(postgres_url).set(database="workactors_no_such_db", query={})
    with pytest.raises(StorageError) as excinfo:
        Storage(url.render_as_string(hide_password=False))
    message = str(excinfo.value)
    assert "PostgreSQL database 'workactors_no_such_db' does not exist" in message
    assert "createdb workactors_no_such_db" in message
    assert "move it away" not in message


def test_a_home_whose_name_holds_url_characters_gets_its_database_there(tmp_path: Path) -> None:
    home = tmp_path / "50% done? #1 @home"
    with Runtime(home) as rt:
        node = Int(3).store()
        assert load_node(node.pk).value == 3  # type: ignore[arg-type]
        assert rt.storage.url == sqlite_url(home / "provenance.sqlite")
    assert (home / "provenance.sqlite").is_file()
    assert [path.name for path in tmp_path.iterdir()] == [home.name]


# Files.


def mode_of(path: Path) -> int:
    """The permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_files_are_created_readable_by_their_owner_only(tmp_path: Path) -> None:
    home = tmp_path / "home"
    old_umask = os.umask(0o022)
    try:
        with Runtime(home) as rt:
            Int(1).store()
            files = [home / name for name in ("provenance.sqlite", "provenance.sqlite-wal")]
            files.append(home / "provenance.sqlite-shm")
            assert all(path.exists() for path in files), rt
            assert {path.name: mode_of(path) for path in files} == {
                path.name: 0o600 for path in files
            }
    finally:
        os.umask(old_umask)


def test_a_home_open_to_other_users_is_warned_about_through_logging(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    with capture_logs() as logs:
        Storage(sqlite_url(home / "provenance.sqlite")).dispose()
    [warning] = [entry for entry in logs if entry["event"] == "provenance.home_open_to_others"]
    assert warning["log_level"] == "warning"
    assert warning["mode"] == "0o755"
    assert f"chmod 700 {home}" in warning["advice"]


def test_a_private_home_is_not_warned_about(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    with capture_logs() as logs:
        Storage(sqlite_url(home / "provenance.sqlite")).dispose()
    assert [entry for entry in logs if entry["log_level"] == "warning"] == []


# stdout.

FRESH_HOME_RUN = textwrap.dedent(
    """
    import sys
    from actors import Runtime, workfunction
    from provenance import Int

    @workfunction
    def add(a, b):
        return a + b

    with Runtime(sys.argv[1]) as rt:
        assert rt.run(add, Int(1), Int(2)) == 3
    """
)


def test_a_fresh_home_run_writes_nothing_to_stdout(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """A program that configured no logging: structlog would print its events to stdout."""
    home = tmp_path / "home"
    home.mkdir(mode=0o755)  # open to others: the warning must go to stderr, not stdout
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    subprocess.run(
        [sys.executable, "-c", FRESH_HOME_RUN, str(home)], check=True, timeout=120, env=environment
    )
    captured = capfd.readouterr()
    assert captured.out == ""
    assert "provenance.home_open_to_others" in captured.err
    assert (home / "provenance.sqlite").is_file()


def test_without_structlog_configured_events_go_to_standard_logging(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import logging, sys
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s %(message)s")
        from provenance.storage import Storage, sqlite_url
        Storage(sqlite_url(sys.argv[1])).dispose()
        """
    )
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "p.sqlite")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=environment,
    )
    assert result.stdout == ""
    assert "provenance.schema provenance.migrate" in result.stderr
