"""The account-scale data set shared by the benchmarks: one account of 1,000,000 contacts and 10,000,000 activities.

    python -m bench.account_scale [--quick] [--rebuild]

100 users × 10,000 contacts (five of them on the Golden Ticket team), 40 campaigns (the Golden Ticket team's,
20 live) with 50,000 members, and 10,000,000 activities over the last 400 days (written in time order, as they happen) (six methods, the Pipedrive
touches, meetings and notes; outcomes from none to booked). 9,900 more users hold no contacts but have a chat
account each, so that the scheduler's beat looks at 10,000 users. Names, emails and organisations carry
accents; warmness, the last touch and past business are skewed as a real bank is.

Built in PostgreSQL itself (generate_series, INSERT … SELECT) in a database migrated by the real migrations,
with the activities' indexes and triggers set aside during the bulk insert and rebuilt after (the stats
rollups and the contacts' rank flags, if the schema has them, filled by their own rebuild functions). The
database is kept on the server under a name that carries the data set's version and the migrations' head, so a
second benchmark in the same `python -m bench` run (or a later run against BENCH_DATABASE_URL or BENCH_DATA_DIR)
reuses it.
"""

from __future__ import annotations

import argparse
import hashlib
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from bench.common import admin_url, machine
from core import db
from core.vocabulary import OUTREACH_METHODS

VERSION = 1
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a Tuesday
DAYS = 400


@dataclass(frozen=True)
class Size:
    users: int
    contacts_per_user: int
    activities: int
    idle_users: int  # users with a chat account and no contacts (the beat's 10,000)

    @property
    def contacts(self) -> int:
        return self.users * self.contacts_per_user

    def describe(self) -> str:
        return (
            f"{self.contacts:,} contacts ({self.users} users × {self.contacts_per_user:,}), "
            f"{self.activities:,} activities, {self.users + self.idle_users:,} users"
        )


FULL = Size(users=100, contacts_per_user=10_000, activities=10_000_000, idle_users=9_900)
QUICK = Size(users=20, contacts_per_user=5_000, activities=500_000, idle_users=1_980)

FIRST = [
    "José", "María", "Zoë", "Renée", "Søren", "Björn", "Ana", "Anaïs", "Chloé", "François", "Łukasz", "Mikuláš",
    "Inés", "Noémie", "Jürgen", "Åsa", "Ömer", "Thomas", "Sarah", "David", "Oliver", "Amélie", "Joël", "Héloïse",
    "Dóra", "Zoltán", "Ayşe", "Rafael", "Sofía", "Ludovic", "Émile", "Giulia", "Niccolò", "Mateus", "João",
    "Agnieszka", "Kateřina", "Nikolaj", "Eleni", "Oğuz", "Pål", "Siobhán", "Ciarán", "Marta", "Andrés", "Lucía",
    "Hélène", "Gérard", "Małgorzata", "Tomáš", "Ingrid", "Magnús", "Þóra", "Yusuf", "Aiko", "Wei", "Priya",
]  # fmt: skip
LAST = [
    "Álvarez", "García", "Müller", "Dvořák", "Šimek", "Nuñez", "Lefèvre", "Brontë", "Çelik", "Kowalczyk",
    "Håkansson", "O'Brien", "Smith", "Johnson", "Dubois", "Moreau", "Rossi", "Esposito", "Schäfer", "Fernández",
    "Gonçalves", "Ibáñez", "Jørgensen", "Kovács", "Lindqvist", "Novák", "Pérez", "Quintão", "Rodríguez", "Weiß",
    "Wójcik", "Nowakowski", "Papadopoulos", "Yılmaz", "Öztürk", "Sørensen", "Bäckström", "Mäkinen", "Virtanen",
    "Horváth", "Nagy", "Szabó", "Popescu", "Ionescu", "Petrović", "Jovanović", "Kuznetsov", "Ferreira", "Costa",
    "Martín", "Sánchez", "Gómez", "Díaz", "Muñoz", "Romero", "Navarro", "Molina", "Delgado", "Castaño", "Peña",
]  # fmt: skip
ORGS = [
    "Société Générale", "Crédit Agricole", "Nestlé", "L'Oréal", "Volkswagen", "Škoda", "Ørsted", "Citroën",
    "Deutsche Bank", "Banco Santander", "Telefónica", "Zürich Insurance", "Acme Capital", "Golden Ticket",
    "Initech", "Globex", "Umbrella", "Hooli", "Pied Piper", "Stark Industries", "Wayne Enterprises", "Nordea",
    "Ericsson", "Nokia", "Siemens", "Allianz", "Müller Logistik", "Česká spořitelna", "Raiffeisen", "Erste Group",
    "BBVA", "CaixaBank", "Unicrédit", "Generali", "Mapfre", "Bouygues", "Vinci", "Danone", "Hermès", "Sodexo",
]  # fmt: skip
TIMEZONES = ["Europe/London", "Europe/Paris", "Europe/Madrid", "America/New_York", "Asia/Tokyo", "Asia/Kolkata"]


def _array(values: list[str]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _weighted(column: str, choices: list[tuple[str, float]]) -> str:
    """A CASE picking each choice with its weight, from a uniform `column` in [0, 1)."""
    total, parts, edge = sum(w for _, w in choices), [], 0.0
    for value, weight in choices[:-1]:
        edge += weight / total
        parts.append(f"WHEN {column} < {edge:.4f} THEN {value}")
    return f"CASE {' '.join(parts)} ELSE {choices[-1][0]} END"


def _plain(text: str, keep: str) -> str:
    """Lower-case ASCII letters only (an email's local part or domain); `keep`: other characters kept."""
    folded = unicodedata.normalize(
        "NFKD", text.replace("ø", "o").replace("Ø", "O").replace("ł", "l").replace("ß", "ss")
    )
    return "".join(c for c in folded.lower() if c.isascii() and (c.isalpha() or c in keep))


def fingerprint(size: Size) -> str:
    """The cached database's name: the data set's version and size (a kept copy is migrated to head on reuse)."""
    key = f"{VERSION}:{size}"
    return "pipedriven_scale_" + hashlib.sha1(key.encode()).hexdigest()[:10]


def _steps(size: Size) -> list[tuple[str, str]]:
    first, last, orgs, zones = _array(FIRST), _array(LAST), _array(ORGS), _array(TIMEZONES)
    first_ascii, last_ascii = _array([_plain(v, ".") for v in FIRST]), _array([_plain(v, ".") for v in LAST])
    orgs_ascii = _array([_plain(v, "") for v in ORGS])
    kind = _weighted(
        "r1",
        [("'linkedin'", 30), ("'email'", 27), ("'call'", 14), ("'campaign_email'", 10), ("'referral'", 2),
         ("'conference'", 2), ("'pipedrive'", 4), ("'meeting'", 3), ("'note'", 8)],
    )  # fmt: skip
    outcome = _weighted(
        "r2",
        [("'none'", 70), ("'no_answer'", 10), ("'replied'", 11), ("'not_interested'", 4),
         ("'meeting_requested'", 3.5), ("'meeting_booked'", 1.5)],
    )  # fmt: skip
    methods = _array(list(OUTREACH_METHODS))
    n, per = size.contacts, size.contacts_per_user
    now, all_users = f"timestamptz '{NOW.isoformat()}'", size.users + size.idle_users
    warmness = _weighted("r3", [("0", 55), ("1", 20), ("2", 12), ("3", 7), ("4", 4), ("5", 2)])
    return [
        (
            "users",
            f"""INSERT INTO users (id, name, email, role, timezone, digest_time, created_at)
                SELECT g, (({first})[1 + (g * 7) % {len(FIRST)}]) || ' ' || (({last})[1 + (g * 13) % {len(LAST)}]),
                       'user' || g || '@example.com',
                       CASE WHEN g <= 5 THEN 'golden_ticket' ELSE 'consultant' END,
                       ({zones})[1 + g % {len(TIMEZONES)}],
                       time '07:30' + (g % 5) * interval '30 minutes', {now} - interval '500 days'
                  FROM generate_series(1, {all_users}) g;
                SELECT setval(pg_get_serial_sequence('users', 'id'), {all_users});
                INSERT INTO chat_identities (user_id, platform, external_user_id, dm_channel)
                SELECT id, CASE WHEN id % 3 = 0 THEN 'slack' ELSE 'telegram' END, 'ext' || id, 'dm' || id
                  FROM users""",
        ),
        (
            "contacts",
            f"""INSERT INTO contacts (id, owner_id, name, email, phone, organisation, title, warmness,
                                     last_contacted_at, past_business, archived_at, created_at, updated_at)
                SELECT g, 1 + (g - 1) / {per},
                       ({first})[f1] || coalesce(' ' || ({first})[f2], '') || ' '
                       || ({last})[l1] || coalesce(' ' || ({last})[l2], ''),
                       CASE WHEN r1 < 0.9 THEN ({first_ascii})[f1] || '.' || ({last_ascii})[l1] || g || '@'
                                               || ({orgs_ascii})[o] || '.com' END,
                       CASE WHEN r2 < 0.4 THEN '+4420' || (7000000 + g % 999983) END,
                       ({orgs})[o], CASE WHEN r2 < 0.5 THEN 'Head of Sales' END,
                       {warmness},
                       CASE WHEN r4 < 0.2 THEN NULL ELSE {now} - (r4 * r4) * interval '{DAYS} days' END,
                       CASE WHEN r5 < 0.1 THEN round((r5 * 1000000)::numeric, 2) ELSE 0 END,
                       CASE WHEN r5 > 0.99 THEN {now} - interval '10 days' END,
                       {now} - interval '450 days', {now} - interval '450 days'
                  FROM (SELECT g, random() r1, random() r2, random() r3, random() r4, random() r5,
                               1 + (random() * {len(FIRST) - 1})::int AS f1,
                               CASE WHEN random() < 0.1 THEN 1 + (random() * {len(FIRST) - 1})::int END AS f2,
                               1 + (random() * {len(LAST) - 1})::int AS l1,
                               CASE WHEN random() < 0.25 THEN 1 + (random() * {len(LAST) - 1})::int END AS l2,
                               1 + (random() * {len(ORGS) - 1})::int AS o
                          FROM generate_series(1, {n}) g) s;
                SELECT setval(pg_get_serial_sequence('contacts', 'id'), {n})""",
        ),
        (
            "campaigns",
            f"""INSERT INTO campaigns (name, status, sector, created_by, start_date)
                SELECT 'Golden Ticket ' || g || ' ' || ({orgs})[1 + g % {len(ORGS)}],
                       CASE WHEN g <= 20 THEN 'live' WHEN g <= 30 THEN 'closed' ELSE 'draft' END,
                       'Fintech', 1 + g % 5, date '2025-10-01' + g * 9
                  FROM generate_series(1, 40) g;
                INSERT INTO campaign_contacts (campaign_id, contact_id, outreach_method, status, added_by)
                SELECT 1 + (g * 7919) % 40, 1 + (g::bigint * 104729) % {n}, ({methods})[1 + g % 6], 'planned', 1 + g % 5
                  FROM generate_series(1, {n // 20}) g
                ON CONFLICT DO NOTHING""",
        ),
        (
            "follow-ups and cadence plans",
            f"""INSERT INTO follow_ups (contact_id, user_id, due_at, note, snoozed, created_at)
                SELECT id, owner_id, {now} + (1 + random() * 30) * interval '1 day',
                       'call back', random() < 0.3, {now} - interval '5 days'
                  FROM contacts WHERE random() < 0.05;
                INSERT INTO contact_plans (contact_id, user_id, strategy_id, status, current_step, started_at,
                                           step_due_at)
                SELECT k.id, k.owner_id, s.id, 'in_progress', 2, {now} - interval '10 days',
                       {now} + (1 + random() * 10) * interval '1 day'
                  FROM contacts k, strategies s
                 WHERE s.name = 'Warm intro' AND random() < 0.03""",
        ),
        (
            "digests already sent today and yesterday",
            f"""INSERT INTO deliveries (kind, user_id, platform, chat_identity_id, local_date, due_at, status,
                                        created_at, finished_at)
                SELECT 'digest', u.id, ci.platform, ci.id, d.day, timezone(u.timezone, d.day + u.digest_time),
                       'sent', timezone(u.timezone, d.day + u.digest_time),
                       timezone(u.timezone, d.day + u.digest_time)
                  FROM users u JOIN chat_identities ci ON ci.user_id = u.id
                 CROSS JOIN LATERAL (VALUES (CAST(timezone(u.timezone, {now}) AS date)),
                                            (CAST(timezone(u.timezone, {now}) AS date) - 1)) d(day);
                UPDATE users SET digest_claimed_through = CAST(timezone(timezone, {now}) AS date)""",
        ),
        (
            "activities",
            f"""INSERT INTO activities (id, contact_id, user_id, campaign_id, kind, channel, outcome, note,
                                        occurred_at, created_at, sync_state)
                SELECT g, contact, 1 + (contact - 1) / {per},
                       CASE WHEN r3 < 0.25 THEN 1 + (r4 * 39)::int END,
                       kind, CASE WHEN kind = 'meeting' THEN ({methods})[1 + (r4 * 5)::int]
                                  WHEN kind = 'pipedrive' THEN 'pipedrive:call'
                                  WHEN kind = 'note' THEN NULL ELSE kind END,
                       CASE WHEN kind = 'note' THEN 'none' ELSE outcome END,
                       CASE WHEN kind = 'note' THEN 'a note' END, at, at, 'none'
                  FROM (SELECT g, 1 + (random() * {n - 1})::int AS contact, {kind} AS kind, {outcome} AS outcome,
                               r3, r4,
                               {now} - ((1 - g::float8 / {size.activities}) * {DAYS} + r5) * interval '1 day' AS at
                          FROM (SELECT g, random() r1, random() r2, random() r3, random() r4, random() r5
                                  FROM generate_series(1, {size.activities}) g) r) s;
                SELECT setval(pg_get_serial_sequence('activities', 'id'), {size.activities})""",
        ),
    ]


def _bulk_load(conn: psycopg.Connection, table: str, sql: str) -> None:
    """Insert with the table's secondary indexes dropped and its user triggers off, then put them back."""
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname <> %s",
        (table, f"pk_{table}"),
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
    conn.execute(sql)
    conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    for _, definition in indexes:
        conn.execute(definition)
    if table == "activities" and conn.execute("SELECT to_regproc('activity_rollups_rebuild')").fetchone()[0]:
        conn.execute("SELECT activity_rollups_rebuild()")


def build(url: str, size: Size) -> dict[str, float]:
    """Fill a freshly migrated database; the seconds each step took."""
    timings: dict[str, float] = {}
    with psycopg.connect(db.libpq_url(url), autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET session_replication_role = replica")  # no foreign-key checks: the rows are built right
        for name, sql in _steps(size):
            t0 = time.perf_counter()
            if name in ("contacts", "activities"):
                _bulk_load(conn, name, sql)
            else:
                conn.execute(sql)
            timings[name] = time.perf_counter() - t0
        conn.execute("SET session_replication_role = origin")
        if conn.execute("SELECT to_regproc('contact_rank_flags_rebuild')").fetchone()[0]:
            t0 = time.perf_counter()
            conn.execute("SELECT contact_rank_flags_rebuild()")  # the triggers were off for the bulk load
            timings["rank flags"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        timings["vacuum analyze"] = time.perf_counter() - t0
    return timings


@contextmanager
def account_database(quick: bool = False, *, rebuild: bool = False) -> Iterator[str]:
    """The account-scale database's URL, built once per server and kept (benchmarks only read it)."""
    size = QUICK if quick else FULL
    url = db.with_database(admin_url(), fingerprint(size))
    with psycopg.connect(db.libpq_url(db.with_database(url, "postgres")), autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (fingerprint(size),),
        ).fetchone()
    if not rebuild and row and row[0] == "complete":
        try:
            before = db.current_revision(url)
            db.upgrade(url)
            if db.current_revision(url) != before:  # what autovacuum would do soon after: fresh statistics
                with psycopg.connect(db.libpq_url(url), autocommit=True) as conn:
                    conn.execute("VACUUM ANALYZE")
        except Exception as exc:  # a kept copy from another line of migrations: build it afresh
            print(f"the kept copy can't be migrated ({type(exc).__name__}); building it again", flush=True)
            rebuild = True
    if rebuild or not row or row[0] != "complete":
        db.drop_database(url)
        db.ensure_database(url)
        t0 = time.perf_counter()
        db.upgrade(url)
        migrated = time.perf_counter() - t0
        timings = build(url, size)
        total = migrated + sum(timings.values())
        steps = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items())
        print(f"built {size.describe()} in {total:.0f} s (migrations {migrated:.0f} s, {steps})", flush=True)
        with psycopg.connect(db.libpq_url(db.with_database(url, "postgres")), autocommit=True) as conn:
            conn.execute(f"COMMENT ON DATABASE \"{fingerprint(size)}\" IS 'complete'")
    yield url


def main() -> None:
    from bench.common import shared_server

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rebuild", action="store_true", help="build again even when a built copy is kept")
    args = parser.parse_args()
    print(machine())
    with shared_server(), account_database(args.quick, rebuild=args.rebuild) as url:
        with psycopg.connect(db.libpq_url(url)) as conn:
            for table in ("users", "contacts", "campaign_contacts", "activities", "follow_ups", "contact_plans"):
                print(f"{table}: {conn.execute(f'SELECT count(*) FROM {table}').fetchone()[0]:,}")
            print("size:", conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0])


if __name__ == "__main__":
    main()
