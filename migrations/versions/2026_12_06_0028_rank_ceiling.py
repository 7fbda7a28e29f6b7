"""rank ceiling: the most today's list can give a contact apart from what depends on the day, stored per contact
and indexed per bank, so that the list reads the few contacts that can reach its top rows (core.feed.ranking).

contacts.rank_ceiling is a stored generated column over the contact's own fields and two flags kept by triggers:
`rule_may_fire` (its last touch or its last meeting news is one a rule from outcomes fires on, core.rules.outcomes)
and `in_campaign` (a member of any campaign). contact_rank_flags_rebuild() sets both afresh for every contact.

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

# The ranking's date-free parts when this migration was written (core.feed.ranking, core.rules.outcomes): 6 points
# per point of warmness, past business up to 15 (capped at 100,000), 50 when a rule may fire (a warm contact, 4+,
# always may), 15 in a campaign.
_CEILING = (
    "6 * warmness + CASE WHEN past_business > 0 THEN 15 * least(ln(1 + CAST(past_business AS float8)) / "
    "ln(1 + 100000), 1) ELSE 0 END + CASE WHEN rule_may_fire OR warmness >= 4 THEN 50 ELSE 0 END "
    "+ CASE WHEN in_campaign THEN 15 ELSE 0 END"
)

# Whether a rule from outcomes may fire on the contact's touches (some day, for some team's day counts): its last
# touch an email, LinkedIn message or campaign email with no outcome, or a call with no answer; or its last meeting
# news a meeting requested.
_RULE_MAY_FIRE = """
        CREATE FUNCTION contact_rule_may_fire(contact integer, last_touch timestamptz) RETURNS boolean
        LANGUAGE sql STABLE
        AS $$ SELECT coalesce((SELECT (a.kind IN ('email', 'linkedin', 'campaign_email') AND a.outcome = 'none')
                                      OR (a.kind = 'call' AND a.outcome = 'no_answer')
                                 FROM SCHEMA.activities a
                                WHERE a.contact_id = contact AND a.occurred_at = last_touch
                                ORDER BY a.id DESC LIMIT 1), false)
                   OR coalesce((SELECT a.outcome = 'meeting_requested'
                                  FROM SCHEMA.activities a
                                 WHERE a.contact_id = contact
                                   AND a.outcome IN ('meeting_requested', 'meeting_booked', 'not_interested')
                                 ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1), false) $$
"""

_TRIGGERS = """
        CREATE FUNCTION contact_rules_refresh(contacts integer[]) RETURNS void LANGUAGE sql AS $$
            UPDATE SCHEMA.contacts k SET rule_may_fire = f.may
              FROM (SELECT c.id, SCHEMA.contact_rule_may_fire(c.id, c.last_contacted_at) AS may
                      FROM SCHEMA.contacts c WHERE c.id = ANY (contacts)) f
             WHERE k.id = f.id AND k.rule_may_fire IS DISTINCT FROM f.may
        $$;
        CREATE FUNCTION contacts_touch_rule() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.rule_may_fire := SCHEMA.contact_rule_may_fire(NEW.id, NEW.last_contacted_at);
            RETURN NEW;
        END $$;
        CREATE TRIGGER contacts_touch_rule_added BEFORE INSERT ON contacts
        FOR EACH ROW WHEN (NEW.last_contacted_at IS NOT NULL) EXECUTE FUNCTION contacts_touch_rule();
        CREATE TRIGGER contacts_touch_rule_moved BEFORE UPDATE OF last_contacted_at ON contacts
        FOR EACH ROW WHEN (OLD.last_contacted_at IS DISTINCT FROM NEW.last_contacted_at)
        EXECUTE FUNCTION contacts_touch_rule();

        CREATE FUNCTION activities_touch_rule() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                PERFORM SCHEMA.contact_rules_refresh(ARRAY(SELECT DISTINCT contact_id FROM joined
                                                            WHERE contact_id IS NOT NULL));
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM SCHEMA.contact_rules_refresh(ARRAY(SELECT DISTINCT contact_id FROM left_rows
                                                            WHERE contact_id IS NOT NULL));
            ELSE
                PERFORM SCHEMA.contact_rules_refresh(ARRAY(
                    SELECT DISTINCT moved.contact_id
                      FROM left_rows o JOIN joined n ON n.id = o.id
                     CROSS JOIN LATERAL (VALUES (o.contact_id), (n.contact_id)) moved(contact_id)
                     WHERE moved.contact_id IS NOT NULL
                       AND (o.contact_id, o.kind, o.outcome, o.occurred_at)
                           IS DISTINCT FROM (n.contact_id, n.kind, n.outcome, n.occurred_at)));
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER activities_touch_rule_added AFTER INSERT ON activities
        REFERENCING NEW TABLE AS joined FOR EACH STATEMENT EXECUTE FUNCTION activities_touch_rule();
        CREATE TRIGGER activities_touch_rule_changed AFTER UPDATE ON activities
        REFERENCING OLD TABLE AS left_rows NEW TABLE AS joined
        FOR EACH STATEMENT EXECUTE FUNCTION activities_touch_rule();
        CREATE TRIGGER activities_touch_rule_removed AFTER DELETE ON activities
        REFERENCING OLD TABLE AS left_rows FOR EACH STATEMENT EXECUTE FUNCTION activities_touch_rule();

        CREATE FUNCTION campaign_contacts_membership() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                UPDATE SCHEMA.contacts k SET in_campaign = true
                 WHERE k.id = ANY (ARRAY(SELECT DISTINCT contact_id FROM joined)) AND NOT k.in_campaign;
            ELSIF TG_OP = 'DELETE' THEN
                UPDATE SCHEMA.contacts k SET in_campaign = false
                 WHERE k.id = ANY (ARRAY(SELECT DISTINCT contact_id FROM left_rows)) AND k.in_campaign
                   AND NOT EXISTS (SELECT 1 FROM SCHEMA.campaign_contacts cc WHERE cc.contact_id = k.id);
            ELSE
                UPDATE SCHEMA.contacts k SET in_campaign = true
                 WHERE k.id = ANY (ARRAY(SELECT DISTINCT n.contact_id FROM joined n JOIN left_rows o ON o.id = n.id
                                          WHERE o.contact_id <> n.contact_id))
                   AND NOT k.in_campaign;
                UPDATE SCHEMA.contacts k SET in_campaign = false
                 WHERE k.id = ANY (ARRAY(SELECT DISTINCT o.contact_id FROM joined n JOIN left_rows o ON o.id = n.id
                                          WHERE o.contact_id <> n.contact_id))
                   AND k.in_campaign
                   AND NOT EXISTS (SELECT 1 FROM SCHEMA.campaign_contacts cc WHERE cc.contact_id = k.id);
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER campaign_contacts_joined AFTER INSERT ON campaign_contacts
        REFERENCING NEW TABLE AS joined FOR EACH STATEMENT EXECUTE FUNCTION campaign_contacts_membership();
        CREATE TRIGGER campaign_contacts_moved AFTER UPDATE ON campaign_contacts
        REFERENCING OLD TABLE AS left_rows NEW TABLE AS joined
        FOR EACH STATEMENT EXECUTE FUNCTION campaign_contacts_membership();
        CREATE TRIGGER campaign_contacts_left AFTER DELETE ON campaign_contacts
        REFERENCING OLD TABLE AS left_rows FOR EACH STATEMENT EXECUTE FUNCTION campaign_contacts_membership();
"""

_REBUILD = """
        CREATE FUNCTION contact_rank_flags_rebuild() RETURNS bigint LANGUAGE sql AS $$
            WITH flags AS (
                SELECT k.id, SCHEMA.contact_rule_may_fire(k.id, k.last_contacted_at) AS may,
                       EXISTS (SELECT 1 FROM SCHEMA.campaign_contacts cc WHERE cc.contact_id = k.id) AS joined
                  FROM SCHEMA.contacts k
            ), changed AS (
                UPDATE SCHEMA.contacts k SET rule_may_fire = flags.may, in_campaign = flags.joined
                  FROM flags
                 WHERE k.id = flags.id AND (k.rule_may_fire, k.in_campaign) IS DISTINCT FROM (flags.may, flags.joined)
                RETURNING 1)
            SELECT count(*) FROM changed
        $$
"""


def upgrade() -> None:
    schema = op.get_bind().execute(sa.text("SELECT quote_ident(current_schema())")).scalar_one()
    op.add_column("contacts", sa.Column("rule_may_fire", sa.Boolean(), server_default="false", nullable=False))
    op.add_column("contacts", sa.Column("in_campaign", sa.Boolean(), server_default="false", nullable=False))
    op.execute(_RULE_MAY_FIRE.replace("SCHEMA", schema))
    op.execute(_REBUILD.replace("SCHEMA", schema))
    # The flags first, then the generated column: adding it rewrites the table, leaving none of the flags' updates
    # behind as dead rows.
    op.execute("SELECT contact_rank_flags_rebuild()")
    op.add_column(
        "contacts",
        sa.Column("rank_ceiling", sa.Float(), sa.Computed(_CEILING, persisted=True), nullable=False),
    )
    op.execute(_TRIGGERS.replace("SCHEMA", schema))
    op.execute(
        """CREATE INDEX ix_contacts_rank_ceiling ON contacts (owner_id, rank_ceiling DESC, id)
           INCLUDE (last_contacted_at, warmness) WHERE archived_at IS NULL"""
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_contacts_rank_ceiling")
    for trigger, table in (
        ("campaign_contacts_left", "campaign_contacts"),
        ("campaign_contacts_moved", "campaign_contacts"),
        ("campaign_contacts_joined", "campaign_contacts"),
        ("activities_touch_rule_removed", "activities"),
        ("activities_touch_rule_changed", "activities"),
        ("activities_touch_rule_added", "activities"),
        ("contacts_touch_rule_moved", "contacts"),
        ("contacts_touch_rule_added", "contacts"),
    ):
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    op.execute("DROP FUNCTION campaign_contacts_membership()")
    op.execute("DROP FUNCTION activities_touch_rule()")
    op.execute("DROP FUNCTION contacts_touch_rule()")
    op.execute("DROP FUNCTION contact_rules_refresh(integer[])")
    op.drop_column("contacts", "rank_ceiling")
    op.execute("DROP FUNCTION contact_rank_flags_rebuild()")
    op.execute("DROP FUNCTION contact_rule_may_fire(integer, timestamptz)")
    op.drop_column("contacts", "in_campaign")
    op.drop_column("contacts", "rule_may_fire")
