"""method rates: the learned chance that an outreach method leads to a meeting, per segment (core.learning).
`method_fits` keeps every fit with its date and the data it saw; `method_rates` holds the rates of a fit.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "method_fits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("window_days", sa.SmallInteger(), nullable=False),
        sa.Column("prior_strength", sa.Float(precision=53), nullable=False),
        sa.Column("data_from", sa.DateTime(timezone=True)),
        sa.Column("data_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outreach", sa.Integer(), nullable=False),
        sa.Column("meetings", sa.Integer(), nullable=False),
        sa.Column("contacts", sa.Integer(), nullable=False),
        sa.Column("users", sa.Integer(), nullable=False),
        sa.Column("team_rate", sa.Float(precision=53), nullable=False),
        sa.CheckConstraint("kind IN ('nightly', 'on_demand')", name=op.f("ck_method_fits_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_method_fits")),
    )
    op.create_table(
        "method_rates",
        sa.Column("fit_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(10), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("outreach", sa.Integer(), nullable=False),
        sa.Column("meetings", sa.Integer(), nullable=False),
        sa.Column("contacts", sa.Integer(), nullable=False),
        sa.Column("rate", sa.Float(precision=53), nullable=False),
        sa.Column("low", sa.Float(precision=53), nullable=False),
        sa.Column("high", sa.Float(precision=53), nullable=False),
        sa.Column("lift", sa.Float(precision=53), nullable=False),
        sa.ForeignKeyConstraint(
            ["fit_id"], ["method_fits.id"], name=op.f("fk_method_rates_fit_id_method_fits"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("fit_id", "dimension", "value", "method", name=op.f("pk_method_rates")),
    )


def downgrade() -> None:
    op.drop_table("method_rates")
    op.drop_table("method_fits")
