"""contacts.sector (free text) and contacts.country (an ISO 3166-1 alpha-2 code), none by default.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("contacts", sa.Column("sector", sa.String(length=200), nullable=True))
    op.add_column("contacts", sa.Column("country", sa.String(length=2), nullable=True))


def downgrade() -> None:
    op.drop_column("contacts", "country")
    op.drop_column("contacts", "sector")
