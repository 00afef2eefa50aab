"""The provenance database: schema by migration, refusal of databases that are not ours."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

import pykka
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from structlog.testing import capture_logs

from actors import Runtime
from provenance import Int, List, StorageError, load_node
from provenance.migrations import HEAD_REVISION
from provenance.models import Base
from provenance.schema import stored_revision, upgrade_schema
from provenance.storage import (
    OWN_TABLES,
    SQLITE_BUSY_TIMEOUT_MS,
    Storage,
    head_revision,
    sqlite_url,
)

SCHEMA_TABLES = OWN_TABLES | {"alembic_version"}


def table_names(url: str) -> set[str]:
    """The tables of the database at ``url``, read by an engine of the test's own."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return set(sa.inspect(connection).get_table_names())
    finally:
        engine.dispose()


def execute(url: str, *statements: str) -> None:
    """Run SQL statements in one transaction through an engine of the test's own."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def migration_events(logs: list[dict[str, object]]) -> list[dict[str, object]]:
    """The captured ``provenance.migrate`` log events."""
    return [entry for entry in logs if entry["event"] == "provenance.migrate"]


def schema_differences(storage: Storage | sa.Engine, metadata: sa.MetaData) -> list[object]:
    """What autogenerate would change to make the database match ``metadata``."""
    engine = storage.write_engine if isinstance(storage, Storage) else storage
    with engine.connect() as connection:
        dialect = connection.dialect.name

        def for_this_dialect(item: object, *_args: object) -> bool:
            # An index the models declare for one backend only (``Index.ddl_if``).
            only = getattr(getattr(item, "_ddl_if", None), "dialect", None)
            return only is None or only == dialect

        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_object": for_this_dialect,
            },
        )
        with warnings.catch_warnings():
            # SQLite cannot reflect expression indices, so Alembic skips them (and says so);
            # test_query_indices checks that they exist.
            warnings.filterwarnings("ignore", "autogenerate skipping", UserWarning)
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
            return list(compare_metadata(context, metadata))


# A new database.


def test_a_new_database_gets_the_schema_by_migration_at_the_head_revision(
    database_url: str,
) -> None:
    with capture_logs() as logs:
        storage = Storage(database_url)
    try:
        assert storage.current_revision() == head_revision()
        with storage.read_session() as session:
            versions = session.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        assert versions == [(head_revision(),)]
        assert table_names(database_url) == SCHEMA_TABLES
        [event] = migration_events(logs)
        assert event["source"] is None
        assert event["target"] == head_revision()
    finally:
        storage.dispose()


def test_a_new_sqlite_database_is_in_wal_mode_with_a_busy_timeout_and_foreign_keys(
    db_path: Path,
) -> None:
    storage = Storage(sqlite_url(db_path))
    try:
        for engine in (storage.write_engine, storage.read_engine):
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                busy_timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
                assert busy_timeout == SQLITE_BUSY_TIMEOUT_MS
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        storage.dispose()
    # WAL mode is recorded in the file itself: any other program sees it.
    connection = sqlite3.connect(db_path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        connection.close()


def test_an_empty_file_at_the_path_is_taken_as_a_new_database(db_path: Path) -> None:
    db_path.touch()
    storage = Storage(sqlite_url(db_path))
    try:
        assert storage.current_revision() == head_revision()
    finally:
        storage.dispose()


def test_a_new_runtime_creates_its_database_in_its_home(home: Path) -> None:
    with Runtime(home) as rt:
        assert rt.storage.url == sqlite_url(home / "provenance.sqlite")
        assert rt.storage.current_revision() == head_revision()
    assert (home / "provenance.sqlite").is_file()


# Reopening.


def test_reopening_a_database_neither_migrates_nor_recreates_it(database_url: str) -> None:
    Storage(database_url).dispose()
    execute(
        database_url,
        "INSERT INTO db_group (uuid, label, type_string, description, time) "
        "VALUES ('0000', 'kept', '', '', CURRENT_TIMESTAMP)",
    )
    with capture_logs() as logs:
        storage = Storage(database_url)
    try:
        assert migration_events(logs) == []
        assert storage.current_revision() == head_revision()
        with storage.read_session() as session:
            labels = session.execute(sa.text("SELECT label FROM db_group")).scalars().all()
        assert labels == ["kept"]
    finally:
        storage.dispose()


def test_nodes_stored_by_one_runtime_are_loaded_by_the_next_one_on_the_same_home(
    home: Path,
) -> None:
    with Runtime(home):
        number = Int(42).store()
        items = List([1, "two", None]).store()
    with capture_logs() as logs, Runtime(home):
        assert load_node(number.pk).value == 42
        assert load_node(items.uuid).value == [1, "two", None]
    assert migration_events(logs) == []


@pytest.mark.postgres
def test_nodes_stored_through_postgresql_are_loaded_by_another_runtime_on_the_same_schema(
    tmp_path: Path, postgres_url: str
) -> None:
    with Runtime(tmp_path / "first", database_url=postgres_url) as rt:
        assert rt.storage.dialect == "postgresql"
        number = Int(7).store()
    with Runtime(tmp_path / "second", database_url=postgres_url):
        loaded = load_node(number.uuid)
        assert type(loaded) is Int
        assert loaded == 7
        assert loaded.pk == number.pk
    assert not (tmp_path / "first" / "provenance.sqlite").exists()


@pytest.mark.postgres
def test_the_database_url_environment_variable_selects_postgresql(
    home: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKACTORS_DATABASE_URL", postgres_url)
    with Runtime(home) as rt:
        assert rt.storage.dialect == "postgresql"
        Int(1).store()
    assert not (home / "provenance.sqlite").exists()
    assert table_names(postgres_url) == SCHEMA_TABLES


# Databases that are not ours.


def test_a_corrupt_database_file_is_refused_and_left_untouched(db_path: Path) -> None:
    garbage = b"garbage bytes \x00\xff" * 512
    db_path.write_bytes(garbage)
    with pytest.raises(StorageError) as excinfo:
        Storage(sqlite_url(db_path))
    message = str(excinfo.value)
    assert str(db_path) in message
    assert "not a database" in message
    assert "move it away" in message
    assert db_path.read_bytes() == garbage
    assert sorted(path.name for path in db_path.parent.iterdir()) == [db_path.name]


def test_a_runtime_on_a_corrupt_database_raises_before_starting_any_actor(home: Path) -> None:
    home.mkdir()
    (home / "provenance.sqlite").write_bytes(b"garbage bytes" * 100)
    with pytest.raises(StorageError, match=r"provenance\.sqlite"):
        Runtime(home)
    assert pykka.ActorRegistry.get_all() == []
    assert (home / "provenance.sqlite").read_bytes() == b"garbage bytes" * 100


def test_a_foreign_sqlite_database_is_refused_and_left_untouched(db_path: Path) -> None:
    connection = sqlite3.connect(db_path)
    with connection:
        connection.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("INSERT INTO recipes (name) VALUES ('soup')")
    connection.close()
    before = db_path.read_bytes()

    with pytest.raises(StorageError) as excinfo:
        Storage(sqlite_url(db_path))

    message = str(excinfo.value)
    assert str(db_path) in message
    assert "another application (recipes)" in message
    assert "move the file away" in message
    assert db_path.read_bytes() == before
    assert sorted(path.name for path in db_path.parent.iterdir()) == [db_path.name]
    connection = sqlite3.connect(db_path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert connection.execute("SELECT name FROM recipes").fetchall() == [("soup",)]
    finally:
        connection.close()


@pytest.mark.postgres
def test_a_postgresql_schema_of_another_application_is_refused_and_left_untouched(
    postgres_url: str,
) -> None:
    execute(
        postgres_url,
        "CREATE TABLE recipes (id SERIAL PRIMARY KEY, name TEXT)",
        "INSERT INTO recipes (name) VALUES ('soup')",
    )
    with pytest.raises(StorageError, match=r"another application \(recipes\)"):
        Storage(postgres_url)
    assert table_names(postgres_url) == {"recipes"}


def test_a_database_stamped_with_an_unknown_revision_is_refused(database_url: str) -> None:
    Storage(database_url).dispose()
    execute(database_url, "UPDATE alembic_version SET version_num = '9999_from_the_future'")
    with pytest.raises(StorageError) as excinfo:
        Storage(database_url)
    message = str(excinfo.value)
    assert "'9999_from_the_future'" in message
    assert "upgrade workactors" in message
    assert table_names(database_url) == SCHEMA_TABLES


def test_a_sqlite_database_stamped_with_an_unknown_revision_is_left_untouched(
    db_path: Path,
) -> None:
    Storage(sqlite_url(db_path)).dispose()
    execute(sqlite_url(db_path), "UPDATE alembic_version SET version_num = 'ffff'")
    before = db_path.read_bytes()
    with pytest.raises(StorageError, match="'ffff'"):
        Storage(sqlite_url(db_path))
    assert db_path.read_bytes() == before


@pytest.mark.postgres
def test_an_unreachable_postgresql_server_is_a_storage_error_that_hides_the_password() -> None:
    url = "postgresql+psycopg://someone:secret@127.0.0.1:1/nothing"
    with pytest.raises(StorageError) as excinfo:
        Storage(url)
    message = str(excinfo.value)
    assert "someone:***@127.0.0.1:1/nothing" in message
    assert "secret" not in message


# Models and migrations.


def test_a_new_database_has_exactly_the_schema_of_the_models(storage: Storage) -> None:
    assert schema_differences(storage, Base.metadata) == []


def test_the_migrations_build_exactly_what_the_models_describe(database_url: str) -> None:
    """A new database gets the models' tables directly (no Alembic on the way); an old one is
    upgraded by the migrations: both must end up with the same schema."""
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            upgrade_schema(connection)
        assert schema_differences(engine, Base.metadata) == []
        with engine.connect() as connection:
            assert stored_revision(connection) == HEAD_REVISION
    finally:
        engine.dispose()


def test_the_head_revision_constant_is_the_newest_migration() -> None:
    assert head_revision() == HEAD_REVISION


def test_opening_a_new_or_current_sqlite_database_imports_neither_alembic_nor_postgresql(
    db_path: Path,
) -> None:
    """Alembic and the PostgreSQL dialect cost a cold start more than the work it does."""
    script = (
        "import sys\n"
        "from provenance.storage import Storage, sqlite_url\n"
        f"Storage(sqlite_url({str(db_path)!r})).dispose()\n"
        f"Storage(sqlite_url({str(db_path)!r})).dispose()\n"
        "heavy = ('alembic', 'sqlalchemy.dialects.postgresql', 'psycopg')\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
    assert db_path.is_file()


def test_the_model_comparison_notices_a_column_the_migrations_lack(db_path: Path) -> None:
    storage = Storage(sqlite_url(db_path))
    try:
        metadata = sa.MetaData()
        for table in Base.metadata.tables.values():
            table.to_metadata(metadata)
        metadata.tables["db_node"].append_column(sa.Column("extra", sa.Integer, nullable=True))
        differences = schema_differences(storage, metadata)
    finally:
        storage.dispose()
    assert [difference[0] for difference in differences] == ["add_column"]


def test_programs_opening_a_new_postgresql_database_at_once_create_the_schema_once(
    postgres_url: str,
) -> None:
    import threading

    from provenance.storage import Storage

    errors: list[Exception] = []
    start = threading.Barrier(6)

    def open_storage() -> None:
        start.wait(timeout=30)
        try:
            Storage(postgres_url).dispose()
        except Exception as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=open_storage) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    storage = Storage(postgres_url)
    try:
        assert storage.current_revision() is not None
    finally:
        storage.dispose()
