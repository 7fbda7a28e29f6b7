"""interaction_drafts: a line read as an interaction, kept from its preview until it is confirmed or cancelled

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "interaction_drafts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("organisation", sa.String(length=200), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("candidate_ids", postgresql.ARRAY(sa.Integer()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("follow_up", sa.Date(), nullable=True),
        sa.Column("warm", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("meeting", sa.String(length=10), nullable=True),
        sa.Column("meeting_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_interaction_drafts_contact_id_contacts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_interaction_drafts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interaction_drafts")),
    )
    op.create_index(op.f("ix_interaction_drafts_contact_id"), "interaction_drafts", ["contact_id"], unique=False)
    op.create_index(op.f("ix_interaction_drafts_created_at"), "interaction_drafts", ["created_at"], unique=False)
    op.create_index(op.f("ix_interaction_drafts_user_id"), "interaction_drafts", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_interaction_drafts_user_id"), table_name="interaction_drafts")
    op.drop_index(op.f("ix_interaction_drafts_created_at"), table_name="interaction_drafts")
    op.drop_index(op.f("ix_interaction_drafts_contact_id"), table_name="interaction_drafts")
    op.drop_table("interaction_drafts")
