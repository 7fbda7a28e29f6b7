"""contacts.archived_at: a contact removed from its owner's bank (kept with its history, restorable); the
ranking's covering index holds the bank's contacts that are not removed.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

RANKING_INDEX = "ix_contacts_owner_id_last_contacted_at"


def _ranking_index(**where) -> None:
    op.create_index(
        RANKING_INDEX,
        "contacts",
        ["owner_id", "last_contacted_at"],
        unique=False,
        postgresql_include=["warmness", "past_business", "id"],
        **where,
    )


def upgrade() -> None:
    op.add_column("contacts", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_index(RANKING_INDEX, table_name="contacts")
    _ranking_index(postgresql_where=sa.text("archived_at IS NULL"))


def downgrade() -> None:
    op.drop_index(RANKING_INDEX, table_name="contacts")
    _ranking_index()
    op.drop_column("contacts", "archived_at")
