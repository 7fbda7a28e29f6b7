"""cadences: strategies and their steps, contact plans, the user's signature, and the built-in strategies

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-22 02:23:01.900916
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

# The strategies that ship with the product, as they were when this revision was written (a later change to
# them is a later revision). Each step: (delay in working days, kind, subject template, message template).
BUILT_IN = [
    (
        "Warm intro",
        "LinkedIn, then an email, then a call: for someone you know of or were introduced to.",
        [
            (
                0,
                "linkedin",
                None,
                "Hi {{contact.first_name}}, I came across your work at {{company.name | default('your company', true)}} "
                "and would be glad to connect. {{user.name}}",
            ),
            (
                3,
                "email",
                "Following up, {{contact.first_name}}",
                "Hi {{contact.first_name}},\n\nThanks for connecting on LinkedIn. I'd value 20 minutes to hear what is on "
                "your agenda at {{company.name | default('your company', true)}} this quarter, and to share what we are "
                "seeing across the sector. Would a short call next week suit you?\n\n{{user.signature}}",
            ),
            (
                4,
                "call",
                "Call {{contact.name}}",
                "Mention the LinkedIn note and last week's email; ask for 20 minutes to hear their priorities.",
            ),
        ],
    ),
    (
        "Cold email sequence",
        "Three emails and a call for someone who doesn't know you yet.",
        [
            (
                0,
                "email",
                "An idea for {{company.name | default('your team', true)}}",
                "Hi {{contact.first_name}},\n\nI work with teams like yours on the questions that keep coming up this "
                "year. I'd welcome 20 minutes to share what we see working at similar firms. Would next week suit "
                "you?\n\n{{user.signature}}",
            ),
            (
                3,
                "email",
                "Re: An idea for {{company.name | default('your team', true)}}",
                "Hi {{contact.first_name}},\n\nBringing this back to the top of your inbox. Happy to send a one-page "
                "summary instead if that is easier.\n\n{{user.signature}}",
            ),
            (
                4,
                "call",
                "Call {{contact.name}}",
                "Mention the two emails; ask whether the topic is on their radar this quarter, and who else should be "
                "in the conversation.",
            ),
            (
                5,
                "email",
                "Closing the loop",
                "Hi {{contact.first_name}},\n\nI haven't heard back, so I'll assume the timing isn't right and won't "
                "keep writing. If it becomes a priority, I'd be glad to help.\n\n{{user.signature}}",
            ),
        ],
    ),
    (
        "Event follow-up",
        "An email the day after an event, a LinkedIn connection, then a call.",
        [
            (
                1,
                "email",
                "Good to meet you, {{contact.first_name}}",
                "Hi {{contact.first_name}},\n\nIt was good to meet you at the event. I'd be glad to carry on the "
                "conversation: would a 20-minute call next week suit you?\n\n{{user.signature}}",
            ),
            (
                2,
                "linkedin",
                None,
                "Hi {{contact.first_name}}, good to meet you at the event. Let's stay in touch. {{user.name}}",
            ),
            (
                3,
                "call",
                "Call {{contact.name}}",
                "Refer to your conversation at the event and your email; propose a date for a proper meeting.",
            ),
        ],
    ),
]


def upgrade() -> None:
    strategies = op.create_table(
        "strategies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("built_in", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_strategies_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategies")),
    )
    op.create_index("uq_strategies_name_lower", "strategies", [sa.literal_column("lower(name)")], unique=True)
    op.create_table(
        "contact_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("strategy_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), server_default="not_started", nullable=False),
        sa.Column("current_step", sa.SmallInteger(), server_default="1", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("step_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.Column("undo_activity_id", sa.BigInteger(), nullable=True),
        sa.Column("undo_state", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "end_reason IS NULL OR end_reason IN ('finished', 'replied', 'meeting_booked', 'not_interested', 'stopped', 'restarted')",
            name=op.f("ck_contact_plans_end_reason"),
        ),
        sa.CheckConstraint(
            "status IN ('not_started', 'in_progress', 'paused', 'completed', 'aborted')",
            name=op.f("ck_contact_plans_status"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_contact_plans_contact_id_contacts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["strategy_id"], ["strategies.id"], name=op.f("fk_contact_plans_strategy_id_strategies"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_contact_plans_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_plans")),
    )
    op.create_index("ix_contact_plans_strategy_id", "contact_plans", ["strategy_id"], unique=False)
    op.create_index(
        "ix_contact_plans_user_id_step_due_at",
        "contact_plans",
        ["user_id", "step_due_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('not_started', 'in_progress')"),
    )
    op.create_index(
        "uq_contact_plans_contact_id_open",
        "contact_plans",
        ["contact_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('not_started', 'in_progress', 'paused')"),
    )
    steps = op.create_table(
        "strategy_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("strategy_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("delay_days", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject_template", sa.String(length=300), nullable=True),
        sa.Column("message_template", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('linkedin', 'email', 'call', 'campaign_email', 'referral', 'conference')",
            name=op.f("ck_strategy_steps_kind"),
        ),
        sa.CheckConstraint("delay_days BETWEEN 0 AND 365", name=op.f("ck_strategy_steps_delay_days")),
        sa.CheckConstraint("position >= 1", name=op.f("ck_strategy_steps_position")),
        sa.ForeignKeyConstraint(
            ["strategy_id"],
            ["strategies.id"],
            name=op.f("fk_strategy_steps_strategy_id_strategies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_strategy_steps")),
        sa.UniqueConstraint("strategy_id", "position", name=op.f("uq_strategy_steps_strategy_id_position")),
    )
    op.add_column("users", sa.Column("signature", sa.Text(), nullable=True))

    connection = op.get_bind()
    for name, description, strategy_steps in BUILT_IN:
        strategy_id = connection.execute(
            strategies.insert().values(name=name, description=description, built_in=True).returning(strategies.c.id)
        ).scalar_one()
        op.bulk_insert(
            steps,
            [
                {
                    "strategy_id": strategy_id,
                    "position": position,
                    "delay_days": delay,
                    "kind": kind,
                    "subject_template": subject,
                    "message_template": message,
                }
                for position, (delay, kind, subject, message) in enumerate(strategy_steps, start=1)
            ],
        )


def downgrade() -> None:
    op.drop_column("users", "signature")
    op.drop_table("strategy_steps")
    op.drop_index(
        "uq_contact_plans_contact_id_open",
        table_name="contact_plans",
        postgresql_where=sa.text("status IN ('not_started', 'in_progress', 'paused')"),
    )
    op.drop_index(
        "ix_contact_plans_user_id_step_due_at",
        table_name="contact_plans",
        postgresql_where=sa.text("status IN ('not_started', 'in_progress')"),
    )
    op.drop_index("ix_contact_plans_strategy_id", table_name="contact_plans")
    op.drop_table("contact_plans")
    op.drop_index("uq_strategies_name_lower", table_name="strategies")
    op.drop_table("strategies")
