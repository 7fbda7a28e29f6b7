"""stats rollups: activity counts per UTC day and month, by campaign × user and by campaign × method, so that stats
over any period read a few thousand rows instead of every activity.

A trigger on activities appends each change (an insert, a delete, an update of a counted field) to
activity_rollup_changes as a signed row; activity_rollups_fold() moves those rows into activity_rollups (run by
housekeeping every hour); reads add the changes not folded yet. Appending never waits on another writer, and the
fold takes its rows in key order, so concurrent writers and folds can't deadlock. activity_rollups_rebuild()
counts everything afresh from activities.

Also the indexes the account-wide paths read: due cadence steps across every bank (the scheduler's beat,
core.deliveries); each contact's fields whole, and the contacts in list order (warm first, then by name), for
`find everyone` (core.contacts.search).

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

# What stats count as outreach (core.vocabulary.COUNTED_OUTREACH when this migration was written).
_OUTREACH = "'linkedin', 'email', 'call', 'campaign_email', 'referral', 'conference', 'pipedrive'"


def _counts() -> list[sa.Column]:
    return [
        sa.Column(name, sa.Integer(), server_default="0", nullable=False)
        for name in ("activities", "outreach", "requested", "booked")
    ]


# The changes (or a day's activities, for the rebuild) spread over both axes and both spans, summed per key.
_KEYED = """
SELECT x.axis, s.span, s.starts_on, t.campaign_id,
       CASE WHEN x.axis = 'user' THEN t.user_id END AS user_id,
       CASE WHEN x.axis = 'method' THEN t.channel END AS channel,
       sum(t.activities) AS activities, sum(t.outreach) AS outreach, sum(t.requested) AS requested,
       sum(t.booked) AS booked
  FROM {source} t
 CROSS JOIN (VALUES ('user'), ('method')) x(axis)
 CROSS JOIN LATERAL (VALUES ('day', t.day), ('month', CAST(date_trunc('month', t.day) AS date))) s(span, starts_on)
 GROUP BY 1, 2, 3, 4, 5, 6
 ORDER BY 1, 2, 3, 4, 5, 6
"""

_KEY = "axis, span, starts_on, campaign_id, user_id, channel"


def upgrade() -> None:
    op.create_table(
        "activity_rollups",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("axis", sa.String(6), nullable=False),
        sa.Column("span", sa.String(5), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("campaign_id", sa.Integer()),
        sa.Column("user_id", sa.Integer()),
        sa.Column("channel", sa.String(40)),
        *_counts(),
        sa.CheckConstraint("axis IN ('user', 'method')", name=op.f("ck_activity_rollups_axis")),
        sa.CheckConstraint("span IN ('day', 'month')", name=op.f("ck_activity_rollups_span")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_rollups")),
    )
    op.create_index(
        "uq_activity_rollups_key",
        "activity_rollups",
        ["axis", "span", "starts_on", "campaign_id", "user_id", "channel"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "activity_rollup_changes",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("campaign_id", sa.Integer()),
        sa.Column("user_id", sa.Integer()),
        sa.Column("channel", sa.String(40)),
        *_counts(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_rollup_changes")),
    )
    op.create_index("ix_activities_occurred_at", "activities", ["occurred_at"])
    op.execute(
        """
        CREATE FUNCTION contact_fields(search_key text) RETURNS text[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT
        AS $$ SELECT string_to_array(search_key, E'\\n') $$
        """
    )
    op.execute("CREATE INDEX ix_contacts_search_fields ON contacts USING gin (contact_fields(search_key))")
    op.execute("CREATE INDEX ix_contacts_listed ON contacts (warmness DESC, name, id) WHERE archived_at IS NULL")
    op.create_index(
        "ix_contact_plans_step_due_at",
        "contact_plans",
        ["step_due_at"],
        postgresql_where=sa.text("status IN ('not_started', 'in_progress')"),
    )
    op.execute(
        f"""
        CREATE FUNCTION activities_record_rollup_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' AND OLD.kind <> 'note' THEN
                INSERT INTO activity_rollup_changes (day, campaign_id, user_id, channel, activities, outreach,
                                                     requested, booked)
                VALUES (CAST(timezone('UTC', OLD.occurred_at) AS date), OLD.campaign_id, OLD.user_id, OLD.channel,
                        -1, -CAST(OLD.kind IN ({_OUTREACH}) AS int), -CAST(OLD.outcome = 'meeting_requested' AS int),
                        -CAST(OLD.outcome = 'meeting_booked' AS int));
            END IF;
            IF TG_OP <> 'DELETE' AND NEW.kind <> 'note' THEN
                INSERT INTO activity_rollup_changes (day, campaign_id, user_id, channel, activities, outreach,
                                                     requested, booked)
                VALUES (CAST(timezone('UTC', NEW.occurred_at) AS date), NEW.campaign_id, NEW.user_id, NEW.channel,
                        1, CAST(NEW.kind IN ({_OUTREACH}) AS int), CAST(NEW.outcome = 'meeting_requested' AS int),
                        CAST(NEW.outcome = 'meeting_booked' AS int));
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER activities_rollup_written AFTER INSERT OR DELETE ON activities
        FOR EACH ROW EXECUTE FUNCTION activities_record_rollup_change()
        """
    )
    op.execute(
        """
        CREATE TRIGGER activities_rollup_changed AFTER UPDATE ON activities
        FOR EACH ROW WHEN ((OLD.occurred_at, OLD.campaign_id, OLD.user_id, OLD.channel, OLD.kind, OLD.outcome)
                           IS DISTINCT FROM
                           (NEW.occurred_at, NEW.campaign_id, NEW.user_id, NEW.channel, NEW.kind, NEW.outcome))
        EXECUTE FUNCTION activities_record_rollup_change()
        """
    )
    op.execute(
        f"""
        CREATE FUNCTION activity_rollups_fold() RETURNS bigint LANGUAGE sql AS $$
            WITH taken AS (DELETE FROM activity_rollup_changes RETURNING *),
            folded AS (
                INSERT INTO activity_rollups AS r ({_KEY}, activities, outreach, requested, booked)
                {_KEYED.format(source="taken")}
                ON CONFLICT ({_KEY}) DO UPDATE
                   SET activities = r.activities + EXCLUDED.activities, outreach = r.outreach + EXCLUDED.outreach,
                       requested = r.requested + EXCLUDED.requested, booked = r.booked + EXCLUDED.booked
                RETURNING 1)
            SELECT count(*) FROM taken
        $$
        """
    )
    per_day = f"""(SELECT CAST(timezone('UTC', occurred_at) AS date) AS day, campaign_id, user_id, channel,
                          count(*) AS activities, count(*) FILTER (WHERE kind IN ({_OUTREACH})) AS outreach,
                          count(*) FILTER (WHERE outcome = 'meeting_requested') AS requested,
                          count(*) FILTER (WHERE outcome = 'meeting_booked') AS booked
                     FROM activities WHERE kind <> 'note' GROUP BY 1, 2, 3, 4)"""
    op.execute(
        f"""
        CREATE FUNCTION activity_rollups_rebuild() RETURNS void LANGUAGE sql AS $$
            DELETE FROM activity_rollup_changes;
            DELETE FROM activity_rollups;
            INSERT INTO activity_rollups ({_KEY}, activities, outreach, requested, booked)
            {_KEYED.format(source=per_day)};
        $$
        """
    )
    op.execute("SELECT activity_rollups_rebuild()")


def downgrade() -> None:
    op.execute("DROP TRIGGER activities_rollup_changed ON activities")
    op.execute("DROP TRIGGER activities_rollup_written ON activities")
    op.execute("DROP FUNCTION activity_rollups_rebuild()")
    op.execute("DROP FUNCTION activity_rollups_fold()")
    op.execute("DROP FUNCTION activities_record_rollup_change()")
    op.drop_index("ix_contact_plans_step_due_at", table_name="contact_plans")
    op.drop_index("ix_activities_occurred_at", table_name="activities")
    op.execute("DROP INDEX ix_contacts_listed")
    op.execute("DROP INDEX ix_contacts_search_fields")
    op.execute("DROP FUNCTION contact_fields(text)")
    op.drop_table("activity_rollup_changes")
    op.drop_index("uq_activity_rollups_key", table_name="activity_rollups")
    op.drop_table("activity_rollups")
