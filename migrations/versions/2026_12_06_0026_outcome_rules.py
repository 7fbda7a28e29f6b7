"""outcome rules: the team's day counts (team_rules), rule nudges (deliveries of kind 'rule', keyed by contact,
rule, the touch it counts from and platform), and an index for a contact's last meeting news.

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

_MEETING_NEWS = "outcome IN ('meeting_requested', 'meeting_booked', 'not_interested')"
_KEY = (
    "(kind = 'digest' AND local_date IS NOT NULL) OR (kind = 'nudge' AND follow_up_id IS NOT NULL) "
    "OR (kind = 'step' AND plan_id IS NOT NULL)"
)


def upgrade() -> None:
    op.create_table(
        "team_rules",
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("days", sa.SmallInteger(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("days BETWEEN 1 AND 365", name=op.f("ck_team_rules_days")),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_team_rules_updated_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_team_rules")),
    )
    op.add_column("deliveries", sa.Column("contact_id", sa.Integer(), nullable=True))
    op.add_column("deliveries", sa.Column("rule", sa.String(length=20), nullable=True))
    op.create_foreign_key(
        op.f("fk_deliveries_contact_id_contacts"), "deliveries", "contacts", ["contact_id"], ["id"], ondelete="CASCADE"
    )
    op.drop_constraint(op.f("ck_deliveries_kind"), "deliveries", type_="check")
    op.create_check_constraint(op.f("ck_deliveries_kind"), "deliveries", "kind IN ('digest', 'nudge', 'step', 'rule')")
    op.drop_constraint(op.f("ck_deliveries_key"), "deliveries", type_="check")
    op.create_check_constraint(
        op.f("ck_deliveries_key"),
        "deliveries",
        f"{_KEY} OR (kind = 'rule' AND contact_id IS NOT NULL AND rule IS NOT NULL)",
    )
    op.create_index(
        "uq_deliveries_rule",
        "deliveries",
        ["contact_id", "rule", "due_at", "platform"],
        unique=True,
        postgresql_where=sa.text("kind = 'rule'"),
    )
    op.create_index(
        "ix_activities_meeting_news",
        "activities",
        ["contact_id", "occurred_at"],
        postgresql_where=sa.text(_MEETING_NEWS),
    )


def downgrade() -> None:
    op.drop_index("ix_activities_meeting_news", table_name="activities", postgresql_where=sa.text(_MEETING_NEWS))
    op.execute("DELETE FROM deliveries WHERE kind = 'rule'")
    op.drop_index("uq_deliveries_rule", table_name="deliveries", postgresql_where=sa.text("kind = 'rule'"))
    op.drop_constraint(op.f("ck_deliveries_key"), "deliveries", type_="check")
    op.create_check_constraint(op.f("ck_deliveries_key"), "deliveries", _KEY)
    op.drop_constraint(op.f("ck_deliveries_kind"), "deliveries", type_="check")
    op.create_check_constraint(op.f("ck_deliveries_kind"), "deliveries", "kind IN ('digest', 'nudge', 'step')")
    op.drop_constraint(op.f("fk_deliveries_contact_id_contacts"), "deliveries", type_="foreignkey")
    op.drop_column("deliveries", "rule")
    op.drop_column("deliveries", "contact_id")
    op.drop_table("team_rules")
