"""deliveries: cadence step nudges (kind 'step', keyed by plan, due moment and platform)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("plan_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        op.f("fk_deliveries_plan_id_contact_plans"),
        "deliveries",
        "contact_plans",
        ["plan_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.drop_constraint(op.f("ck_deliveries_kind"), "deliveries", type_="check")
    op.create_check_constraint(op.f("ck_deliveries_kind"), "deliveries", "kind IN ('digest', 'nudge', 'step')")
    op.drop_constraint(op.f("ck_deliveries_key"), "deliveries", type_="check")
    op.create_check_constraint(
        op.f("ck_deliveries_key"),
        "deliveries",
        "(kind = 'digest' AND local_date IS NOT NULL) OR (kind = 'nudge' AND follow_up_id IS NOT NULL) "
        "OR (kind = 'step' AND plan_id IS NOT NULL)",
    )
    op.create_index(
        "uq_deliveries_step",
        "deliveries",
        ["plan_id", "due_at", "platform"],
        unique=True,
        postgresql_where=sa.text("kind = 'step'"),
    )


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE kind = 'step'")
    op.drop_index("uq_deliveries_step", table_name="deliveries", postgresql_where=sa.text("kind = 'step'"))
    op.drop_constraint(op.f("ck_deliveries_key"), "deliveries", type_="check")
    op.create_check_constraint(
        op.f("ck_deliveries_key"),
        "deliveries",
        "(kind = 'digest' AND local_date IS NOT NULL) OR (kind = 'nudge' AND follow_up_id IS NOT NULL)",
    )
    op.drop_constraint(op.f("ck_deliveries_kind"), "deliveries", type_="check")
    op.create_check_constraint(op.f("ck_deliveries_kind"), "deliveries", "kind IN ('digest', 'nudge')")
    op.drop_constraint(op.f("fk_deliveries_plan_id_contact_plans"), "deliveries", type_="foreignkey")
    op.drop_column("deliveries", "plan_id")
