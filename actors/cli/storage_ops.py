"""What ``workactors storage`` does: measure a home and its database, vacuum, back up.

Kept apart from the command definitions so that each operation is a plain function of a
database URL and a home, testable without the command line.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from persistence.folders import CHECKPOINT_SUFFIX
from provenance.errors import StorageError
from provenance.models import DbLink, DbLog, DbNode
from provenance.process_nodes import ProcessNode
from provenance.storage import Storage

#: Pages the SQLite backup copies per step, between two progress updates.
BACKUP_STEP_PAGES = 1024

#: Told the bytes copied so far and the bytes to copy in all.
Progress = Callable[[int, int], None]


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def require_sqlite_file(url: str) -> Path:
    """The existing SQLite file of ``url``.

    Raises:
        StorageError: if ``url`` is SQLite but its file does not exist.
    """
    path = sqlite_path(url)
    assert path is not None
    if not path.is_file():
        raise StorageError(
            f"there is no workactors database at {path}: nothing has run with this home yet, "
            "or --home/--database-url name another place"
        )
    return path


@dataclass(frozen=True, slots=True)
class Folder:
    """A checkpoint folder: how many checkpoints it holds and their bytes."""

    count: int
    size: int


@dataclass(frozen=True, slots=True)
class StorageInfo:
    """What ``storage info`` reports."""

    location: str
    dialect: str
    database_bytes: int
    nodes: int
    processes: int
    links: int
    logs: int
    processes_by_state: dict[str, int]
    checkpoints: dict[str, Folder] = field(default_factory=dict)
    log_bytes: int = 0


def file_size(path: Path) -> int:
    """The size of ``path``, 0 if it is missing."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def database_bytes(storage: Storage) -> int:
    """The bytes the database takes: the SQLite file with its WAL, or the PostgreSQL tables of
    the schema in use (with their indexes and TOAST)."""
    path = sqlite_path(storage.url)
    if path is not None:
        return sum(file_size(Path(f"{path}{suffix}")) for suffix in ("", "-wal", "-shm"))
    if storage.dialect != "postgresql":
        return 0
    query = sa.text(
        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
    )
    with storage.read_session() as session:
        return int(session.execute(query).scalar_one())


def checkpoint_folder(folder: Path) -> Folder:
    """How many checkpoints ``folder`` holds and their total size (its subfolders not counted)."""
    if not folder.is_dir():
        return Folder(0, 0)
    sizes = [file_size(path) for path in folder.glob(f"*{CHECKPOINT_SUFFIX}")]
    return Folder(len(sizes), sum(sizes))


def gather(storage: Storage, home: Path) -> StorageInfo:
    """Sizes and counts of the database and of the home's checkpoints and logs."""
    process = sa.or_(
        DbNode.node_type == ProcessNode.node_type,
        DbNode.node_type.startswith(f"{ProcessNode.node_type}."),
    )
    state = DbNode.attributes["process_state"].as_string()
    with storage.read_session() as session:

        def count(query: sa.Select[Any]) -> int:
            return int(session.execute(query).scalar_one())

        nodes = count(sa.select(sa.func.count(DbNode.id)))
        processes = count(sa.select(sa.func.count(DbNode.id)).where(process))
        links = count(sa.select(sa.func.count(DbLink.id)))
        logs = count(sa.select(sa.func.count(DbLog.id)))
        by_state = {
            str(name): int(number)
            for name, number in session.execute(
                sa.select(state, sa.func.count(DbNode.id)).where(process).group_by(state)
            )
        }
    running = home / "running"
    logs_folder = home / "daemon"
    return StorageInfo(
        location=storage.location,
        dialect=storage.dialect,
        database_bytes=database_bytes(storage),
        nodes=nodes,
        processes=processes,
        links=links,
        logs=logs,
        processes_by_state=dict(sorted(by_state.items())),
        checkpoints={
            "running": checkpoint_folder(running),
            "finished": checkpoint_folder(running / "finished"),
            "failed": checkpoint_folder(running / "failed"),
        },
        log_bytes=sum(file_size(path) for path in logs_folder.glob("*.log*"))
        if logs_folder.is_dir()
        else 0,
    )


def vacuum(storage: Storage) -> list[str]:
    """Compact and re-analyse the database; the statements run.

    SQLite: ``VACUUM``, ``ANALYZE`` and a WAL checkpoint (they wait for running writers, up
    to the busy timeout). PostgreSQL: ``VACUUM ANALYZE`` of each table of the schema in use.

    Raises:
        StorageError: if the database is busy for too long or refuses.
    """
    path = sqlite_path(storage.url)
    if path is not None:
        statements = ["VACUUM", "ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)"]
        direct = sqlite3.connect(path, timeout=60, isolation_level=None)
        try:
            for statement in statements:
                direct.execute(statement).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(
                f"cannot vacuum {path}: {exc}; try again when fewer processes write to it"
            ) from exc
        finally:
            direct.close()
        return statements
    engine = storage.write_engine.execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        tables = sa.inspect(connection).get_table_names()
        statements = [f'VACUUM ANALYZE "{table}"' for table in tables]
        for statement in statements:
            connection.exec_driver_sql(statement)
    return statements


def backup_sqlite(source: Path, destination: Path, progress: Progress | None = None) -> int:
    """Copy the SQLite database ``source`` to ``destination`` consistently; its bytes.

    Uses SQLite's online backup API inside one read transaction on the source, so that the
    copy is the database as it was at one moment even while workers write to it (in WAL mode
    they are not blocked). The copy is written beside ``destination`` and moved into place
    once complete, private to the user (0600).

    Raises:
        StorageError: if ``destination`` exists, or the copy fails.
    """
    if destination.exists():
        raise StorageError(f"{destination} exists already; choose a new file or remove it first")
    partial = destination.with_name(f".{destination.name}.partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
    os.close(fd)
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=60)
    writer = sqlite3.connect(partial)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM sqlite_master").fetchone()  # pins the snapshot

        page_size = int(reader.execute("PRAGMA page_size").fetchone()[0])

        def step(_status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress((total - remaining) * page_size, total * page_size)

        reader.backup(writer, pages=BACKUP_STEP_PAGES, progress=step)
        writer.execute("PRAGMA journal_mode=DELETE").fetchall()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise StorageError(f"cannot back up {source} to {destination}: {exc}") from exc
    finally:
        writer.close()
        reader.close()
    os.replace(partial, destination)
    return file_size(destination)


def pg_dump_hint(storage: Storage, destination: Path) -> str:
    """The ``pg_dump`` command that backs up a PostgreSQL database (the password left out:
    ``pg_dump`` asks for it, or reads ``$PGPASSWORD``/``~/.pgpass``)."""
    url = sa.make_url(storage.url)
    schema = None
    options = url.query.get("options")
    if isinstance(options, str) and "search_path=" in options:
        schema = options.split("search_path=", 1)[1].split()[0]
    plain = url.set(drivername="postgresql", password=None, query={}).render_as_string()
    target = f" --schema {schema}" if schema else ""
    return f"pg_dump --dbname '{plain}'{target} --format custom --file '{destination}'"
