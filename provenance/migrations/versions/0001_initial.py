"""The first schema: nodes, links, logs and groups.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JsonType = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "db_node",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("node_type", sa.String(length=255), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("attributes", JsonType, nullable=False),
        sa.Column("ctime", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mtime", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_db_node")),
        sa.UniqueConstraint("uuid", name=op.f("uq_db_node_uuid")),
    )
    op.create_index(op.f("ix_db_node_node_type"), "db_node", ["node_type"])
    op.create_index(op.f("ix_db_node_ctime"), "db_node", ["ctime"])

    op.create_table(
        "db_link",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("input_id", sa.Integer(), nullable=False),
        sa.Column("output_id", sa.Integer(), nullable=False),
        sa.Column("link_type", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["input_id"], ["db_node.id"], name=op.f("fk_db_link_input_id_db_node"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["output_id"], ["db_node.id"], name=op.f("fk_db_link_output_id_db_node"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_db_link")),
    )
    op.create_index(op.f("ix_db_link_input_id"), "db_link", ["input_id"])
    op.create_index(op.f("ix_db_link_output_id"), "db_link", ["output_id"])

    op.create_table(
        "db_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("levelname", sa.String(length=50), nullable=False),
        sa.Column("loggername", sa.String(length=255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("metadata", JsonType, nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"], ["db_node.id"], name=op.f("fk_db_log_node_id_db_node"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_db_log")),
    )
    op.create_index(op.f("ix_db_log_node_id"), "db_log", ["node_id"])

    op.create_table(
        "db_group",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("type_string", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_db_group")),
        sa.UniqueConstraint("uuid", name=op.f("uq_db_group_uuid")),
    )
    op.create_index("ix_db_group_label_type", "db_group", ["label", "type_string"], unique=True)

    op.create_table(
        "db_group_node",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["db_group.id"], name=op.f("fk_db_group_node_group_id_db_group"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["node_id"], ["db_node.id"], name=op.f("fk_db_group_node_node_id_db_node"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("group_id", "node_id", name=op.f("pk_db_group_node")),
    )


def downgrade() -> None:
    op.drop_table("db_group_node")
    op.drop_index("ix_db_group_label_type", table_name="db_group")
    op.drop_table("db_group")
    op.drop_index(op.f("ix_db_log_node_id"), table_name="db_log")
    op.drop_table("db_log")
    op.drop_index(op.f("ix_db_link_output_id"), table_name="db_link")
    op.drop_index(op.f("ix_db_link_input_id"), table_name="db_link")
    op.drop_table("db_link")
    op.drop_index(op.f("ix_db_node_ctime"), table_name="db_node")
    op.drop_index(op.f("ix_db_node_node_type"), table_name="db_node")
    op.drop_table("db_node")
