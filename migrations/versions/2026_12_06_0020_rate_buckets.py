"""rate_buckets: the rate limits' state, shared by every process on the database (core.shared_limits). Unlogged:
it is worth nothing after a crash, and writing it skips the WAL.

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("state", JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("idle_at", sa.Float(precision=53), nullable=False, server_default=sa.text("'-Infinity'")),
        prefixes=["UNLOGGED"],
    )


def downgrade() -> None:
    op.drop_table("rate_buckets")
