"""Checkpoints, control intents and workers in the database, for many machines.

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-02

(Revision 0002, query indices, is written on another branch at the same time; this one names
0001 as its parent so that each branch's chain is whole. Whoever merges both re-chains this one
onto 0002.)
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wa_checkpoint",
        sa.Column("pid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("class_path", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=255), nullable=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("pid", name=op.f("pk_wa_checkpoint")),
    )
    op.create_index("ix_wa_checkpoint_status_owner", "wa_checkpoint", ["status", "owner"])
    op.create_table(
        "wa_intent",
        sa.Column("pid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("pid", name=op.f("pk_wa_intent")),
    )
    op.create_table(
        "wa_worker",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("os_pid", sa.Integer(), nullable=False),
        sa.Column("home", sa.Text(), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_expires", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wa_worker")),
    )


def downgrade() -> None:
    op.drop_table("wa_worker")
    op.drop_table("wa_intent")
    op.drop_index("ix_wa_checkpoint_status_owner", table_name="wa_checkpoint")
    op.drop_table("wa_checkpoint")
