"""The provenance actor's hot statements through SQLAlchemy Core: what PostgreSQL runs
(``provenance.row_writers`` runs them on the ``sqlite3`` driver for SQLite).

Imported for a PostgreSQL database only, so that a program on SQLite never pays for the models
and SQLAlchemy at start.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from provenance.models import DbGroup, DbLink, DbLog, DbNode, group_node
from provenance.records import GroupAddition
from provenance.row_writers import Resolve, Row

_node_columns = DbNode.__table__.c


@contextmanager
def core_savepoint(connection: Connection, name: str) -> Iterator[None]:
    """A raw savepoint through SQLAlchemy: its nested-transaction bookkeeping costs more than
    the statements themselves on this hot path."""
    connection.exec_driver_sql(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {name}")
        raise
    finally:
        connection.exec_driver_sql(f"RELEASE SAVEPOINT {name}")


class CoreRows:
    """SQLAlchemy Core statements, built once (a statement memoizes its cache key)."""

    _insert_nodes = sa.insert(DbNode).returning(DbNode.uuid, DbNode.id)
    _insert_links = sa.insert(DbLink)
    _insert_logs = sa.insert(DbLog)
    _update_attributes = (
        sa.update(DbNode)
        .where(_node_columns.id == sa.bindparam("b_id"))
        .values(
            {
                _node_columns.attributes: sa.bindparam(
                    "b_attributes", type_=_node_columns.attributes.type
                ),
                _node_columns.mtime: sa.bindparam("b_mtime", type_=_node_columns.mtime.type),
            }
        )
    )

    def insert_nodes(self, connection: Connection, rows: Sequence[Row]) -> dict[str, int]:
        result = connection.execute(self._insert_nodes, list(rows))
        return {row[0]: row[1] for row in result}

    def insert_links(self, connection: Connection, rows: Sequence[Row]) -> None:
        connection.execute(self._insert_links, list(rows))

    def insert_logs(self, connection: Connection, rows: Sequence[Row]) -> None:
        connection.execute(self._insert_logs, list(rows))

    def update_attributes(self, connection: Connection, rows: Sequence[Row]) -> None:
        connection.execute(self._update_attributes, list(rows))

    def select_pks(self, connection: Connection, uuids: Iterable[str]) -> dict[str, int]:
        rows = connection.execute(
            sa.select(DbNode.uuid, DbNode.id).where(DbNode.uuid.in_(list(uuids)))
        )
        return {row[0]: row[1] for row in rows}

    def add_to_group(self, connection: Connection, op: GroupAddition, resolve: Resolve) -> None:
        group_id = connection.execute(
            sa.select(DbGroup.id).where(
                DbGroup.label == op.label, DbGroup.type_string == op.type_string
            )
        ).scalar_one_or_none()
        if group_id is None:
            group_id = connection.execute(
                sa.insert(DbGroup)
                .values(uuid=op.group_uuid, label=op.label, type_string=op.type_string)
                .returning(DbGroup.id)
            ).scalar_one()
        if not op.node_uuids:
            return
        pks = resolve(connection, op.node_uuids)
        present = set(
            connection.execute(
                sa.select(group_node.c.node_id).where(
                    group_node.c.group_id == group_id, group_node.c.node_id.in_(pks.values())
                )
            ).scalars()
        )
        missing = [
            pk for pk in dict.fromkeys(pks[uuid] for uuid in op.node_uuids) if pk not in present
        ]
        if missing:
            connection.execute(
                sa.insert(group_node), [{"group_id": group_id, "node_id": pk} for pk in missing]
            )

    def savepoint(self, connection: Connection, name: str) -> Any:
        return core_savepoint(connection, name)

    def undoable(self, connection: Connection) -> Any:
        return core_savepoint(connection, "provenance_write")

    def statement_guard(self, connection: Connection, name: str) -> AbstractContextManager[None]:
        """A savepoint: PostgreSQL aborts the whole transaction on a failed statement."""
        return core_savepoint(connection, name)


__all__ = ["CoreRows", "core_savepoint"]
