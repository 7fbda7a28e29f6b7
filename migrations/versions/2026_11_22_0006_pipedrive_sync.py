"""pipedrive sync: users' own tokens, outbox claims and owed notices

Revision ID: 0006
Revises: 0040
Create Date: 2026-11-22 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("pipedrive_api_token", sa.String(length=200), nullable=True))
    op.add_column("outbox", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("outbox", sa.Column("user_notice", sa.Text(), nullable=True))
    op.add_column("outbox", sa.Column("user_notified_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_outbox_user_id_id", "outbox", ["user_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_user_id_id", table_name="outbox")
    op.drop_column("outbox", "user_notified_at")
    op.drop_column("outbox", "user_notice")
    op.drop_column("outbox", "locked_until")
    op.drop_column("users", "pipedrive_api_token")
