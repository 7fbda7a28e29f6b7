"""contacts.past_business_currency: the ISO code typed with a past business amount (`12k EUR`), none by default.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("contacts", sa.Column("past_business_currency", sa.String(length=3), nullable=True))


def downgrade() -> None:
    op.drop_column("contacts", "past_business_currency")
