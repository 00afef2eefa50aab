"""Groups: named sets of nodes."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from provenance.backend import get_backend
from provenance.errors import NotExistentError
from provenance.models import DbGroup, DbNode, group_node
from provenance.nodes import Node
from provenance.reading import read_storage
from provenance.records import GroupAddition
from provenance.uuids import new_uuid
from provenance.values import check_label


class Group:
    """A named set of stored nodes, identified by ``(label, type_string)``."""

    def __init__(self, label: str, type_string: str = "") -> None:
        if not label:
            raise ValueError("a group needs a non-empty label")
        self.label = check_label(label, "the label of a Group")
        self.type_string = check_label(type_string, "the type_string of a Group")

    @classmethod
    def get(cls, label: str, type_string: str = "") -> Group:
        """The stored group of that label.

        Raises:
            NotExistentError: if there is none.
        """
        group = cls(label, type_string)
        if group._row_id() is None:
            raise NotExistentError(f"no group labelled {label!r} (type {type_string!r})")
        return group

    @classmethod
    def get_or_create(cls, label: str, type_string: str = "") -> tuple[Group, bool]:
        """The group of that label, stored; and whether it was created now."""
        group = cls(label, type_string)
        if group._row_id() is not None:
            return group, False
        group.add_nodes([])
        return group, True

    def _row_id(self) -> int | None:
        with read_storage().read_session() as session:
            return session.execute(
                sa.select(DbGroup.id).where(
                    DbGroup.label == self.label, DbGroup.type_string == self.type_string
                )
            ).scalar_one_or_none()

    @property
    def is_stored(self) -> bool:
        """True once the group is in the database."""
        return self._row_id() is not None

    def add_nodes(self, nodes: Iterable[Node]) -> None:
        """Add nodes (stored first if needed); the group is created if it does not exist."""
        nodes = [node.store() for node in nodes]
        get_backend().write(
            [
                GroupAddition(
                    label=self.label,
                    type_string=self.type_string,
                    node_uuids=tuple(node.uuid for node in nodes),
                    group_uuid=new_uuid(),
                )
            ]
        )

    @property
    def nodes(self) -> list[Node]:
        """The member nodes, in the order they were stored."""
        with read_storage().read_session() as session:
            rows = session.execute(
                sa.select(DbNode)
                .join(group_node, group_node.c.node_id == DbNode.id)
                .join(DbGroup, DbGroup.id == group_node.c.group_id)
                .where(DbGroup.label == self.label, DbGroup.type_string == self.type_string)
                .order_by(DbNode.id)
            ).scalars()
            return [Node._from_row(row) for row in rows]

    def __repr__(self) -> str:
        return f"<Group: {self.label!r}>"
