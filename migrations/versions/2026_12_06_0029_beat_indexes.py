"""the scheduler's beat at account scale: each user's last local day whose digest is claimed on every platform
(users.digest_claimed_through, filled from the digests already claimed; cleared when the user is reached somewhere
new) with an index over the digest moments, and the indexes the rule nudges' claim finds its candidates by (a
bank's recent touches; recent meeting requests).

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

_CLAIMED_THROUGH = "coalesce(digest_claimed_through, '-infinity'::date)"

# The newest day each user's digest is claimed on every platform they are reached on.
_BACKFILL = """
UPDATE users u SET digest_claimed_through = done.day
  FROM (SELECT d.user_id, max(d.local_date) AS day
          FROM deliveries d JOIN users o ON o.id = d.user_id
         WHERE d.kind = 'digest'
           AND NOT EXISTS (SELECT 1 FROM chat_identities ci
                            WHERE ci.user_id = d.user_id
                              AND (o.digest_platform IS NULL OR ci.platform = o.digest_platform)
                              AND NOT EXISTS (SELECT 1 FROM deliveries e
                                               WHERE e.kind = 'digest' AND e.user_id = d.user_id
                                                 AND e.platform = ci.platform AND e.local_date = d.local_date))
         GROUP BY d.user_id) done
 WHERE u.id = done.user_id
"""

# A user reached somewhere new (an account linked, another platform chosen) may be owed that day's digest there:
# their digest moment is read again.
_REACH_CHANGED = """
CREATE FUNCTION digest_reach_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'users' THEN
        NEW.digest_claimed_through := NULL;
        RETURN NEW;
    END IF;
    UPDATE users SET digest_claimed_through = NULL
     WHERE id = NEW.user_id AND digest_claimed_through IS NOT NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER chat_identities_digest_reach AFTER INSERT OR UPDATE OF user_id, platform ON chat_identities
    FOR EACH ROW EXECUTE FUNCTION digest_reach_changed();
CREATE TRIGGER users_digest_reach BEFORE UPDATE OF digest_platform ON users
    FOR EACH ROW WHEN (OLD.digest_platform IS DISTINCT FROM NEW.digest_platform)
    EXECUTE FUNCTION digest_reach_changed();
"""


def upgrade() -> None:
    op.add_column("users", sa.Column("digest_claimed_through", sa.Date(), nullable=True))
    op.execute(_BACKFILL)
    op.execute(_REACH_CHANGED)
    op.create_index(
        "ix_users_digest_moment",
        "users",
        ["timezone", "digest_time", sa.literal_column(_CLAIMED_THROUGH)],
        postgresql_where=sa.text("active"),
    )
    op.create_index(
        "ix_contacts_owner_id_recent",
        "contacts",
        ["owner_id", sa.literal_column("coalesce(last_contacted_at, created_at)")],
    )
    op.create_index(
        "ix_activities_meeting_requested",
        "activities",
        ["occurred_at"],
        postgresql_where=sa.text("outcome = 'meeting_requested'"),
    )
    op.execute("ANALYZE users, contacts")  # the new expressions' statistics, for the beat's plans


def downgrade() -> None:
    op.execute("DROP TRIGGER users_digest_reach ON users")
    op.execute("DROP TRIGGER chat_identities_digest_reach ON chat_identities")
    op.execute("DROP FUNCTION digest_reach_changed()")
    op.drop_index(
        "ix_activities_meeting_requested",
        table_name="activities",
        postgresql_where=sa.text("outcome = 'meeting_requested'"),
    )
    op.drop_index("ix_contacts_owner_id_recent", table_name="contacts")
    op.drop_index("ix_users_digest_moment", table_name="users", postgresql_where=sa.text("active"))
    op.drop_column("users", "digest_claimed_through")
