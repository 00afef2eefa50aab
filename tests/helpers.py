"""Small helpers for tests that inspect the database directly."""

from __future__ import annotations

import sqlalchemy as sa

from actors import Runtime
from provenance import ProcessNode, load_node
from provenance.models import DbLink, DbNode


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
