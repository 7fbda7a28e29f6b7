"""users.pipedrive_api_token becomes text: it holds the token encrypted (core/encryption.py), longer than the
token itself. Tokens stored in plain text before stay readable; `pipedriven secrets rotate` encrypts them
(a migration has no key to do it with).

Downgrading drops the encrypted tokens (a Fernet token starts `gAAAAA`): older code can't read them.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column(
        "users", "pipedrive_api_token", type_=sa.Text(), existing_type=sa.String(length=200), existing_nullable=True
    )


def downgrade() -> None:
    op.execute("UPDATE users SET pipedrive_api_token = NULL WHERE pipedrive_api_token LIKE 'gAAAAA%'")
    op.alter_column(
        "users", "pipedrive_api_token", type_=sa.String(length=200), existing_type=sa.Text(), existing_nullable=True
    )
