"""The account-scale paths keep their query plans: on a modest account (thousands of contacts and activities,
ANALYZEd), none of them reads the contacts or the activities table from end to end — stats over any period,
`find everyone`, today's list of a big bank, and the scheduler's beat with nothing due."""

import json
import os
import re
from datetime import UTC, datetime, time, timedelta

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from core import db
from core.contacts.search import LISTED, LOOKUP_SETTINGS, RANKS, EveryBankSearch
from core.deliveries import handlers as deliveries
from core.feed import ranking
from core.models import Contact
from core.stats.handlers import rolled_up_query
from tests.conftest import TEMPLATE

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
SCANNED = {"contacts", "activities"}
GIN_INDEXES = {"ix_contacts_search_fields", "ix_contacts_search_words", "ix_contacts_search_word_trigrams"}


@pytest.fixture(scope="module")
def account(pg_server_url, template_url):
    """A database of its own for this module: 20 users × 500 contacts, 30,000 activities, rollups, plans."""
    name = f"pipedriven_account_plans_{os.getpid()}"
    with psycopg.connect(db.libpq_url(pg_server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}" STRATEGY FILE_COPY')
    url = db.with_database(pg_server_url, name)
    with psycopg.connect(db.libpq_url(url), autocommit=True) as conn:
        conn.execute(
            """INSERT INTO users (name, email, timezone, role)
               SELECT 'User ' || g, 'u' || g || '@example.com',
                      (ARRAY['Europe/London', 'Europe/Paris', 'Asia/Kolkata'])[1 + g % 3],
                      CASE WHEN g = 1 THEN 'golden_ticket' ELSE 'consultant' END
                 FROM generate_series(1, 20) g;
               INSERT INTO chat_identities (user_id, platform, external_user_id) SELECT id, 'telegram', 'x' || id FROM users;
               INSERT INTO contacts (owner_id, name, email, organisation, warmness, last_contacted_at)
               SELECT u.id, (ARRAY['José', 'Ana', 'Zoë', 'Björn'])[1 + g % 4] || ' Surname' || (g % 97),
                      'p' || u.id || '.' || g || '@firm' || (g % 53) || '.example', 'Firm ' || (g % 53), g % 6,
                      %(now)s::timestamptz - (g % 300) * interval '1 day'
                 FROM users u, generate_series(1, 500) g;
               INSERT INTO campaigns (name, status) SELECT 'Campaign ' || g, 'live' FROM generate_series(1, 5) g;
               INSERT INTO campaign_contacts (campaign_id, contact_id) SELECT 1 + id % 5, id FROM contacts WHERE id % 10 = 0;
               INSERT INTO follow_ups (contact_id, user_id, due_at)
               SELECT id, owner_id, %(now)s::timestamptz + interval '3 days' FROM contacts WHERE id % 20 = 0;
               INSERT INTO contact_plans (contact_id, user_id, strategy_id, status, started_at, step_due_at)
               SELECT k.id, k.owner_id, s.id, 'in_progress', %(now)s::timestamptz - interval '2 days',
                      %(now)s::timestamptz + interval '2 days'
                 FROM contacts k, strategies s WHERE s.name = 'Warm intro' AND k.id % 30 = 0;
               INSERT INTO activities (contact_id, user_id, campaign_id, kind, channel, outcome, occurred_at)
               SELECT 1 + g % 10000, 1 + (g % 10000) / 500, CASE WHEN g % 4 = 0 THEN 1 + g % 5 END,
                      (ARRAY['email', 'call', 'linkedin', 'note'])[1 + g % 4],
                      (ARRAY['email', 'call', 'linkedin', NULL])[1 + g % 4],
                      CASE WHEN g % 31 = 0 THEN 'meeting_booked' ELSE 'none' END,
                      %(now)s::timestamptz - (g * interval '17 minutes')
                 FROM generate_series(1, 30000) g;
               SELECT activity_rollups_fold()""".replace("%(now)s", f"'{NOW.isoformat()}'")
        )
        conn.execute("VACUUM ANALYZE")
    yield url
    with psycopg.connect(db.libpq_url(pg_server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


def _explain(url: str, sql: str, params: dict | None = None, settings: tuple[str, ...] = ()) -> list[dict]:
    with psycopg.connect(db.libpq_url(url)) as conn:
        for setting in settings:
            conn.execute(f"SET {setting}" if "=" in setting else f"SET {setting} = off")
        (plan,) = conn.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()
    return list(_nodes((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]))


def _named(text_sql: str) -> str:
    """`:name` parameters (SQLAlchemy's text()) as psycopg's `%(name)s`."""
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", text_sql.replace("%", "%%"))


def _sequential(nodes: list[dict]) -> list[str]:
    return [n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in SCANNED]


PERIODS = [
    (None, None),
    (datetime(2026, 10, 31, 23, 0, tzinfo=UTC), None),
    (NOW - timedelta(days=30), NOW - timedelta(hours=2)),
    (NOW - timedelta(hours=20), NOW - timedelta(hours=2)),
]


@pytest.mark.parametrize("group_by", [None, "campaign", "user", "method"])
def test_stats_read_rollups_and_the_hours_at_the_ends_by_index(account, group_by):
    for since, until in PERIODS:
        for campaign_id in (None, 2):
            sql, params = rolled_up_query(group_by, since, until, campaign_id, None)
            nodes = _explain(account, _named(sql), params)
            assert _sequential(nodes) == [], (group_by, since, until, campaign_id)


def _compiled(query) -> str:
    return str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


@pytest.mark.parametrize("text", ["jose surname4", "surname4", "firm 1", "urnam", "rname4", "os"])
def test_find_everyone_reads_indexes(account, text):
    search = EveryBankSearch(text)
    # the first contacts in list order, matched from the list-order index alone
    nodes = _explain(account, _compiled(search.walk(10)))
    assert _sequential(nodes) == [], (text, "walk")
    assert any(n["Node Type"] == "Index Only Scan" and n["Index Name"] == "ix_contacts_listed" for n in nodes), nodes
    # a rank with fewer matches among them: by its GIN index, under the lookups' settings
    settings = tuple(f"{name} = {value}" for name, value in LOOKUP_SETTINGS.items())
    lookups = [search.lookup(rank) for rank in range(len(RANKS))] + [search.lookup_after_field()]
    for lookup in lookups:
        if lookup is None:
            continue
        nodes = _explain(
            account, _compiled(select(Contact.id).where(lookup).order_by(*LISTED).limit(10)), settings=settings
        )
        assert _sequential(nodes) == [], (text, "lookup")
        assert {n.get("Index Name") for n in nodes} & GIN_INDEXES, (text, nodes)


@pytest.mark.parametrize("learned", [False, True], ids=["fixed", "learned"])
def test_todays_list_of_a_big_bank_reads_indexes(account, learned):
    day_start = ranking.local_day_start(NOW, "Europe/London")
    params = {
        "uid": 3, "now": NOW, "day_start": day_start, "today": day_start.date(), "tz": "Europe/London", "limit": 10,
        "warm_only": False, "stale_days": None, "campaign_id": None, **ranking.DEFAULT_RULES.params(),
    }  # fmt: skip
    assert _sequential(_explain(account, _named(ranking._QUERIES[learned]), params)) == []


def _analyzed(url: str, sql: str, params: dict) -> list[dict]:
    with psycopg.connect(db.libpq_url(url)) as conn:
        (plan,) = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).fetchone()
    return list(_nodes((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"]))


@pytest.mark.parametrize("learned", [False, True], ids=["fixed", "learned"])
def test_todays_list_reads_a_big_bank_only_as_far_as_its_walk(account, learned):
    """The walk reads the bank by ix_contacts_rank_ceiling, and no step of the statement reads more of the
    contacts than the walk's (none of this bank is due anything today)."""
    walk = 64
    params = ranking.parameters(3, "Europe/London", NOW, 10) | {"walk": walk, "floor": None}
    nodes = _analyzed(account, _named(ranking._BOUNDED[learned]), params)
    assert _sequential(nodes) == []
    assert any(n.get("Index Name") == "ix_contacts_rank_ceiling" for n in nodes)
    read = {
        n.get("Index Name"): n["Actual Rows"] * n["Actual Loops"] for n in nodes if n.get("Relation Name") == "contacts"
    }
    assert read and max(read.values()) <= walk + 1, read


def _whole(nodes: list[dict]) -> list[str]:
    """The contacts or activities read from end to end by an index (no condition on it: every bank in key order)."""
    return [
        n["Relation Name"]
        for n in nodes
        if n["Node Type"] in ("Index Scan", "Index Only Scan")
        and n.get("Relation Name") in SCANNED
        and "Index Cond" not in n
    ]


BEAT = ["_RETAKE", "_CLAIM_DIGESTS", "_RECORD_DIGESTS_CLAIMED", "_CLAIM_NUDGES", "_CLAIM_STEPS", "_CLAIM_RULES"]


@pytest.mark.parametrize("query", BEAT)
def test_the_beat_reads_no_bank_from_end_to_end(account, query):
    moment = NOW + timedelta(seconds=1)
    rules = ranking.DEFAULT_RULES.params()
    params = {
        "now": moment, "token": "t", "platforms": ["telegram", "slack"], "lease_end": moment + timedelta(minutes=1),
        "grace": timedelta(hours=2), "day_end": time(18, 0), "limit": 100, **rules,
        "rule_nudge_days": deliveries.RULE_NUDGE_DAYS,
        "rule_horizon": timedelta(days=max(rules.values()) + deliveries.RULE_NUDGE_DAYS + 1),
    }  # fmt: skip
    nodes = _explain(account, _named(getattr(deliveries, query)), params)
    assert _sequential(nodes) == []
    assert _whole(nodes) == []
    assert not [n for n in nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "contact_plans"]
