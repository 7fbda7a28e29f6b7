"""activities.previous_contacted_at: what an undo of the activity restores

Revision ID: 0030
Revises: 0010
Create Date: 2026-11-22 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("activities", sa.Column("previous_contacted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("activities", "previous_contacted_at")
