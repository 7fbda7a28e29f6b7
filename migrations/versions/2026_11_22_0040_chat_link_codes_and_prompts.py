"""chat link codes (one-time codes that link a Telegram account) and chat prompts (questions awaiting a reply)

Revision ID: 0040
Revises: 0010
Create Date: 2026-11-22 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_link_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_chat_link_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_link_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_chat_link_codes_code_hash")),
    )
    op.create_index(op.f("ix_chat_link_codes_expires_at"), "chat_link_codes", ["expires_at"], unique=False)
    op.create_index(op.f("ix_chat_link_codes_user_id"), "chat_link_codes", ["user_id"], unique=False)
    op.create_table(
        "chat_prompts",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.String(length=100), nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_chat_prompts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("platform", "chat_id", "message_id", name=op.f("pk_chat_prompts")),
    )
    op.create_index(op.f("ix_chat_prompts_created_at"), "chat_prompts", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_chat_prompts_created_at"), table_name="chat_prompts")
    op.drop_table("chat_prompts")
    op.drop_index(op.f("ix_chat_link_codes_user_id"), table_name="chat_link_codes")
    op.drop_index(op.f("ix_chat_link_codes_expires_at"), table_name="chat_link_codes")
    op.drop_table("chat_link_codes")
