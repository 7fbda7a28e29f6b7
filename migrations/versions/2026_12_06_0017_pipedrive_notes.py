"""The Pipedrive note a contact's notes and each of its `note`s became: activities.pipedrive_note_id and
contacts.pipedrive_note_id, none by default.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("activities", sa.Column("pipedrive_note_id", sa.BigInteger(), nullable=True))
    op.add_column("contacts", sa.Column("pipedrive_note_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("contacts", "pipedrive_note_id")
    op.drop_column("activities", "pipedrive_note_id")
