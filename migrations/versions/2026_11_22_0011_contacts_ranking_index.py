"""contacts: the (owner_id, last_contacted_at) index also carries what the ranking scores (warmness, past
business, id), so today's list reads a bank from the index alone instead of one heap page per contact

Revision ID: 0011
Revises: 0009
"""

from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

NAME = "ix_contacts_owner_id_last_contacted_at"


def upgrade() -> None:
    op.drop_index(NAME, table_name="contacts")
    op.create_index(
        NAME,
        "contacts",
        ["owner_id", "last_contacted_at"],
        unique=False,
        postgresql_include=["warmness", "past_business", "id"],
    )


def downgrade() -> None:
    op.drop_index(NAME, table_name="contacts")
    op.create_index(NAME, "contacts", ["owner_id", "last_contacted_at"], unique=False)
