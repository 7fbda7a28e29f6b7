"""Deals, done activities and polling from Pipedrive: pipedrive_deals (per deal and linked contact, what counts in
past business), pipedrive_notes (chat messages owed, such as a deal won), pipedrive_poll_marks (the polling's
high-water marks); activities may be touches done in Pipedrive (kind 'pipedrive', method 'pipedrive:<type>').

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

KINDS = "'linkedin', 'email', 'call', 'campaign_email', 'referral', 'conference', 'meeting', 'note'"


def upgrade() -> None:
    op.create_table(
        "pipedrive_deals",
        sa.Column("deal_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("value", sa.Numeric(14, 2), server_default="0", nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("lost_reason", sa.Text(), nullable=True),
        sa.Column("counted", sa.Numeric(14, 2), server_default="0", nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_pipedrive_deals_contact_id_contacts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("deal_id", "contact_id", name=op.f("pk_pipedrive_deals")),
    )
    op.create_index("ix_pipedrive_deals_contact_id", "pipedrive_deals", ["contact_id"])
    op.create_table(
        "pipedrive_notes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_pipedrive_notes_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_pipedrive_notes_contact_id_contacts"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipedrive_notes")),
    )
    op.create_index(
        "ix_pipedrive_notes_owed", "pipedrive_notes", ["id"], postgresql_where=sa.text("notified_at IS NULL")
    )
    op.create_table(
        "pipedrive_poll_marks",
        sa.Column("entity", sa.String(length=30), nullable=False),
        sa.Column("updated_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("polled_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("entity", name=op.f("pk_pipedrive_poll_marks")),
    )
    op.drop_constraint(op.f("ck_activities_kind"), "activities", type_="check")
    op.create_check_constraint(op.f("ck_activities_kind"), "activities", f"kind IN ({KINDS}, 'pipedrive')")
    op.alter_column("activities", "channel", type_=sa.String(length=40), existing_nullable=True)
    op.create_index("ix_activities_pipedrive_activity_id", "activities", ["pipedrive_activity_id"])


def downgrade() -> None:
    op.drop_index("ix_activities_pipedrive_activity_id", table_name="activities")
    op.execute("DELETE FROM activities WHERE kind = 'pipedrive'")
    op.alter_column("activities", "channel", type_=sa.String(length=20), existing_nullable=True)
    op.drop_constraint(op.f("ck_activities_kind"), "activities", type_="check")
    op.create_check_constraint(op.f("ck_activities_kind"), "activities", f"kind IN ({KINDS})")
    op.drop_table("pipedrive_poll_marks")
    op.drop_index("ix_pipedrive_notes_owed", table_name="pipedrive_notes")
    op.drop_table("pipedrive_notes")
    op.drop_index("ix_pipedrive_deals_contact_id", table_name="pipedrive_deals")
    op.drop_table("pipedrive_deals")
