"""follow_ups: the partial index on user_id of open follow-ups, declared in core.models but missing from 0001

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_follow_ups_user_id_open",
        "follow_ups",
        ["user_id"],
        unique=False,
        postgresql_where=sa.text("status = 'open'"),
    )


def downgrade() -> None:
    op.drop_index("ix_follow_ups_user_id_open", table_name="follow_ups", postgresql_where=sa.text("status = 'open'"))
