"""Mark the nodes an archive import created, so that ``node rehash`` never makes an imported
process run a cache source (its outputs were produced elsewhere and cannot be verified here).

Nodes imported before this revision are not marked: nothing in the database tells them apart.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# Plain ALTER TABLE on SQLite too: a batch migration would copy the table and lose the
# expression indices of 0002, which SQLite's reflection does not see.


def upgrade() -> None:
    op.add_column(
        "db_node", sa.Column("imported", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column("db_node", "imported")
