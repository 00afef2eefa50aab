"""SQLAlchemy models of the provenance graph: nodes, typed links, log records and groups; and
the tables of a database shared by many machines: checkpoints (the queue and its claims),
control intents and the workers that serve them (``persistence.postgres_store``).

The schema is owned by the Alembic migrations in ``provenance/migrations``; these models must
describe the same tables (a test compares them).

The annotations are evaluated as the classes are defined (no ``from __future__ import
annotations``): SQLAlchemy then reads ``Mapped[...]`` as objects instead of parsing and
evaluating each as a string, which halves the cost of importing this module, paid by every
program at start.
"""

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

from provenance.timestamps import utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class JsonType(TypeDecorator[Any]):
    """JSON, stored as ``jsonb`` on PostgreSQL.

    The PostgreSQL dialect is imported only when a PostgreSQL engine compiles the type, so that
    a program on the embedded SQLite database never loads it (``with_variant`` needs ``JSONB``
    at import time).
    """

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


class UtcDateTime(TypeDecorator[dt.datetime]):
    """``DateTime(timezone=True)`` that stores UTC and reads back aware datetimes on SQLite too.

    SQLite keeps no offset: without this, timestamps read from it are naive.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


class Base(DeclarativeBase):
    """Declarative base with a naming convention so that migrations name constraints stably."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


#: Attribute keys that ``process list`` and queries filter on, each with an expression index
#: (migration 0002) written exactly as ``provenance.query_fields`` renders a one-key path.
INDEXED_ATTRIBUTES = ("process_state", "process_class")


def _attribute_indices() -> tuple[Index, ...]:
    indices: list[Index] = []
    for key in INDEXED_ATTRIBUTES:
        indices.append(
            Index(
                f"ix_db_node_attr_{key}",
                text(f"json_extract(attributes, '$.{key}')"),
            ).ddl_if(dialect="sqlite")
        )
        indices.append(
            Index(f"ix_db_node_attr_{key}", text(f"(attributes ->> '{key}')")).ddl_if(
                dialect="postgresql"
            )
        )
    return tuple(indices)


class DbNode(Base):
    """A data or process node."""

    __tablename__ = "db_node"
    __table_args__ = _attribute_indices()

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    node_type: Mapped[str] = mapped_column(String(255), index=True)
    label: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    attributes: Mapped[dict[str, Any]] = mapped_column(JsonType(), default=dict)
    ctime: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    mtime: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: The content hash (``provenance.hashing``): what caching matches on.
    node_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    #: True for a node an archive import created: ``node rehash`` leaves an imported process
    #: without a hash, so that it is never a cache source (migration 0004).
    imported: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class DbLink(Base):
    """A typed, labelled edge of the provenance graph, from ``input`` to ``output``."""

    __tablename__ = "db_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    input_id: Mapped[int] = mapped_column(ForeignKey("db_node.id", ondelete="CASCADE"), index=True)
    output_id: Mapped[int] = mapped_column(ForeignKey("db_node.id", ondelete="CASCADE"), index=True)
    link_type: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(255))


class DbLog(Base):
    """A log record bound to a node, such as a line of ``Process.report``."""

    __tablename__ = "db_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("db_node.id", ondelete="CASCADE"), index=True)
    time: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    levelname: Mapped[str] = mapped_column(String(50))
    loggername: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JsonType(), default=dict)


group_node = Table(
    "db_group_node",
    Base.metadata,
    Column("group_id", ForeignKey("db_group.id", ondelete="CASCADE"), primary_key=True),
    Column("node_id", ForeignKey("db_node.id", ondelete="CASCADE"), primary_key=True),
    # The primary key serves "members of a group"; this serves "groups of a node".
    Index("ix_db_group_node_node_id", "node_id"),
)


class DbGroup(Base):
    """A named set of nodes."""

    __tablename__ = "db_group"
    __table_args__ = (Index("ix_db_group_label_type", "label", "type_string", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    label: Mapped[str] = mapped_column(String(255))
    type_string: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    time: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class DbCheckpoint(Base):
    """The checkpoint of one durable process, and who holds (has claimed) it.

    ``data`` is the signed checkpoint (``persistence.codec``), NULL while a process launched by
    its holder has none yet; ``key_id`` names the key that signed it. ``status`` is ``running``
    until it is retired ``finished`` or ``failed`` (``reason`` says why). A claim is ``owner``,
    a worker of ``wa_worker`` whose lease covers all its claims; every claim adds one to
    ``epoch``, so a write made under an older claim is recognised and refused (fencing).
    """

    __tablename__ = "wa_checkpoint"
    __table_args__ = (Index("ix_wa_checkpoint_status_owner", "status", "owner"),)

    pid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    class_path: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    key_id: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16), default="running")
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(255), nullable=True)
    epoch: Mapped[int] = mapped_column(BigInteger, default=0)
    updated: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class DbIntent(Base):
    """A pause, play or kill kept for a process nobody holds (a msgpack ``Intent``)."""

    __tablename__ = "wa_intent"

    pid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class DbWorker(Base):
    """A holder of claims (a daemon worker, on any machine): its lease, renewed with its
    heartbeat, covers every claim it holds; once it runs out, they may be taken over."""

    __tablename__ = "wa_worker"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    os_pid: Mapped[int] = mapped_column(Integer)
    home: Mapped[str] = mapped_column(Text, default="")
    started: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    heartbeat: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    lease_expires: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class DbRuntime(Base):
    """A runtime open on the database, on any machine (``provenance.runtime_rows``): it renews
    ``heartbeat`` and ``expires`` (database time) while it is open and deletes its row when it
    shuts down, so that a row run out, or missing, tells that the runtime ended."""

    __tablename__ = "wa_runtime"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    os_pid: Mapped[int] = mapped_column(Integer)
    home: Mapped[str] = mapped_column(Text, default="")
    started: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    heartbeat: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
