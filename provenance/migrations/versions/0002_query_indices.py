"""Indices for queries (the attributes ``process list`` filters on, group memberships by node)
and the content hash of nodes, which caching matches on.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ATTRIBUTES = ("process_state", "process_class")


def _expression(key: str) -> str:
    if op.get_bind().dialect.name == "sqlite":
        return f"json_extract(attributes, '$.{key}')"
    return f"(attributes ->> '{key}')"


def upgrade() -> None:
    with op.batch_alter_table("db_node") as table:
        table.add_column(sa.Column("node_hash", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_db_node_node_hash"), "db_node", ["node_hash"])
    for key in ATTRIBUTES:
        op.create_index(f"ix_db_node_attr_{key}", "db_node", [sa.text(_expression(key))])
    op.create_index("ix_db_group_node_node_id", "db_group_node", ["node_id"])


def downgrade() -> None:
    op.drop_index("ix_db_group_node_node_id", table_name="db_group_node")
    for key in ATTRIBUTES:
        op.drop_index(f"ix_db_node_attr_{key}", table_name="db_node")
    op.drop_index(op.f("ix_db_node_node_hash"), table_name="db_node")
    with op.batch_alter_table("db_node") as table:
        table.drop_column("node_hash")
