"""Small helpers for tests that inspect the database directly."""

from __future__ import annotations

import os
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from actors import Runtime
from provenance import ProcessNode, load_node
from provenance.models import DbLink, DbNode

POSTGRES_SERVER_URL = os.environ.get(
    "WORKACTORS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


class PostgresUnreachableError(RuntimeError):
    """The test PostgreSQL server did not answer."""


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a new, empty schema on the local PostgreSQL server; dropped afterwards.

    Raises:
        PostgresUnreachableError: if the server does not answer.
    """
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_SERVER_URL, pool_pre_ping=True)  # survives a restart
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        raise PostgresUnreachableError(
            f"the PostgreSQL server at {POSTGRES_SERVER_URL} is not reachable: {exc}"
        ) from exc
    try:
        yield f"{POSTGRES_SERVER_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def count_nodes(rt: Runtime) -> int:
    """How many nodes the runtime's database holds."""
    with rt.storage.read_session() as session:
        return session.execute(sa.select(sa.func.count(DbNode.id))).scalar_one()


def count_links(rt: Runtime) -> int:
    """How many links the runtime's database holds."""
    with rt.storage.read_session() as session:
        return session.execute(sa.select(sa.func.count(DbLink.id))).scalar_one()


def last_process(rt: Runtime) -> ProcessNode:
    """The newest process node in the runtime's database."""
    with rt.storage.read_session() as session:
        pk = session.execute(
            sa.select(sa.func.max(DbNode.id)).where(DbNode.node_type.like("process%"))
        ).scalar_one()
    node = load_node(pk)
    assert isinstance(node, ProcessNode)
    return node


def process_nodes(rt: Runtime, label: str | None = None) -> list[ProcessNode]:
    """The process nodes of the runtime's database, oldest first; those of ``label`` only if
    given."""
    with rt.storage.read_session() as session:
        pks = session.execute(
            sa.select(DbNode.id).where(DbNode.node_type.like("process%")).order_by(DbNode.id)
        ).scalars()
        nodes = [load_node(pk) for pk in pks]
    return [
        node
        for node in nodes
        if isinstance(node, ProcessNode) and label in (None, node.process_label)
    ]


def migrate_to(database_url: str, revision: str) -> None:
    """Build the schema of an older workactors (``revision``) in ``database_url``, as it left
    its databases, by running the migrations up to it."""
    from alembic import command
    from alembic.config import Config

    from provenance.storage import MIGRATIONS_DIR

    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


@contextmanager
def read_queries(rt: Runtime) -> Iterator[list[tuple[str, tuple[object, ...]]]]:
    """The queries (statement, parameters) run on the runtime's read engine in the block: a
    count of them is what a test of "one query, not one per row" asserts."""
    seen: list[tuple[str, tuple[object, ...]]] = []

    def record(
        _conn: object, _cursor: object, statement: str, parameters: object, *_: object
    ) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(
                (statement, tuple(parameters) if isinstance(parameters, tuple | list) else ())
            )

    sa.event.listen(rt.storage.read_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(rt.storage.read_engine, "before_cursor_execute", record)


def with_query(url: str, name: str, value: str) -> str:
    """``url`` with its query parameter ``name`` set to ``value`` (percent-encoded, a space as
    ``%20``: libpq reads a ``+`` as a plus)."""
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query[name] = value
    encoded = urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
    return urllib.parse.urlunsplit(parts._replace(query=encoded))


def with_server_option(url: str, option: str) -> str:
    """``url`` whose connections also get the server ``option`` (``-clock_timeout=300``): its
    ``options`` query value, space-separated as libpq reads it."""
    options = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)).get("options", "")
    return with_query(url, "options", f"{options} {option}".strip())


class Fsyncs:
    """Every ``os.fsync`` of this program, in order, by the name of the file it synced (the
    real fsync runs first: this only watches)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._lock = threading.Lock()
        self._fsync = os.fsync

    def __call__(self, fd: int) -> None:
        self._fsync(fd)
        name = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
        with self._lock:
            self.names.append(name)

    def of(self, suffix: str) -> list[str]:
        return [name for name in self.names if name.endswith(suffix)]
