"""pipedrive owner: who owns a contact's person in Pipedrive, by name, as its changes say.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("contacts", sa.Column("pipedrive_owner", sa.String(200), nullable=True))


def downgrade() -> None:
    op.drop_column("contacts", "pipedrive_owner")
