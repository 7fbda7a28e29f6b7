"""pipedrive_events: webhooks received from Pipedrive, once each, with their outcome; contacts keep what the last
Pipedrive change was, when, per field, and when their person was deleted there.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipedrive_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("entity", sa.String(length=30), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("status", sa.String(length=12), server_default="received", nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("contact_ids", sa.ARRAY(sa.Integer()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('received', 'applied', 'ignored', 'stale', 'error')", name=op.f("ck_pipedrive_events_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipedrive_events")),
        sa.UniqueConstraint("event_key", name=op.f("uq_pipedrive_events_event_key")),
    )
    op.create_index(
        "ix_pipedrive_events_waiting",
        "pipedrive_events",
        ["id"],
        unique=False,
        postgresql_where=sa.text("status = 'received'"),
    )
    op.add_column(
        "contacts",
        sa.Column(
            "pipedrive_field_times",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )
    op.add_column("contacts", sa.Column("pipedrive_changed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("contacts", sa.Column("pipedrive_change", sa.String(length=200), nullable=True))
    op.add_column("contacts", sa.Column("pipedrive_deleted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for column in ("pipedrive_deleted_at", "pipedrive_change", "pipedrive_changed_at", "pipedrive_field_times"):
        op.drop_column("contacts", column)
    op.drop_index("ix_pipedrive_events_waiting", table_name="pipedrive_events")
    op.drop_table("pipedrive_events")
