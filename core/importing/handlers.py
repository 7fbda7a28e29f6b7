"""CSV import, the write: the ImportContacts handler, on the rows core.importing.reader reads.

Writing (`import_contacts`) happens in ONE transaction, the one `Core.execute`
opens: rows are COPYed into a temporary staging table, then a few set-based statements find duplicates inside
the file and matches in the bank (same email, else same name and organisation), update or skip the existing
contacts, insert the new ones and add campaign memberships. A crash or a lost connection at any point leaves
nothing written; running the same import again is the way to resume, and it is safe because importing a file
twice changes nothing the second time (unchanged contacts are not even touched). One transaction also gives
the chat uploads exactly-once delivery through `Core.execute(..., idempotency_key=...)`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import phonenumbers
from sqlalchemy import Row, select, text

from core.campaigns.handlers import CAMPAIGN_SIZE_HINT
from core.collisions import collisions_of_query
from core.command import Actor
from core.context import Context, find_campaign, load_user, require_golden_ticket
from core.errors import InvalidInput
from core.importing.commands import ImportContacts, ImportIssue, ImportReport
from core.importing.reader import ContactFile, ContactRow
from core.models import Campaign, Contact
from core.outbox import queue_sync
from core.registry import handles
from core.vocabulary import WARM_THRESHOLD

MODES = ("update", "skip")
IMPORT_LOCK = 7001  # the advisory-lock class of “importing into this bank” (the other key is the owner's id)
BATCH_ROWS = 500  # rows between two yields to the event loop (and two progress calls)
REPORTED_COLUMNS = 20  # columns left out that the report names; the rest are counted

_STAGING_COLUMNS = (
    "row_no",
    "name",
    "email",
    "phone",
    "organisation",
    "title",
    "linkedin_url",
    "sector",
    "country",
    "notes",
    "warmness",
    "method",
    "past_business",
    "past_business_currency",
    "campaign_id",
    "name_key",
    "org_key",
)
_CREATE_STAGING = """
    CREATE TEMPORARY TABLE import_rows (
        row_no int PRIMARY KEY, name text NOT NULL, email text, phone text, organisation text, title text,
        linkedin_url text, sector text, country text, notes text, warmness smallint, method text,
        past_business numeric(14, 2), past_business_currency text, campaign_id int,
        name_key text NOT NULL, org_key text NOT NULL,
        dup_of int, contact_id int, existing boolean NOT NULL DEFAULT false
    ) ON COMMIT DROP
"""
# Inside the file: the same email is the same person; a row without an email is the same person as another
# row with its name and organisation (one with an email is preferred as the one that stays).
_MARK_DUPLICATES = (
    """UPDATE import_rows r SET dup_of = d.first
         FROM (SELECT row_no, min(row_no) OVER (PARTITION BY email) AS first
                 FROM import_rows WHERE email IS NOT NULL) d
        WHERE r.row_no = d.row_no AND d.first <> r.row_no""",
    """UPDATE import_rows r SET dup_of = d.first
         FROM (SELECT row_no, first_value(row_no) OVER (PARTITION BY name_key, org_key
                                                       ORDER BY email IS NULL, row_no) AS first
                 FROM import_rows WHERE dup_of IS NULL) d
        WHERE r.row_no = d.row_no AND r.email IS NULL AND d.first <> r.row_no""",
)
# In the bank: the same email; else the same name and organisation (a row with an email only matches a
# contact without one, and a row without an email prefers such a contact). A bank contact claimed by
# several rows (different emails, same name) stays with the first; the others are new contacts.
_MATCH_BANK = (
    """UPDATE import_rows r SET contact_id = k.id
         FROM contacts k
        WHERE r.dup_of IS NULL AND r.email IS NOT NULL AND k.owner_id = :owner AND lower(k.email) = r.email""",
    """UPDATE import_rows r SET contact_id = m.id
         FROM (SELECT DISTINCT ON (r.row_no) r.row_no, k.id
                 FROM import_rows r
                 JOIN contacts k ON k.owner_id = :owner AND lower(k.name) = r.name_key
                                AND lower(coalesce(k.organisation, '')) = r.org_key
                                AND (r.email IS NULL OR k.email IS NULL)
                WHERE r.dup_of IS NULL AND r.contact_id IS NULL
                ORDER BY r.row_no, k.email IS NULL DESC, k.id) m
        WHERE r.row_no = m.row_no""",
    """UPDATE import_rows r SET contact_id = NULL
         FROM (SELECT row_no, row_number() OVER (PARTITION BY contact_id ORDER BY row_no) AS n
                 FROM import_rows WHERE contact_id IS NOT NULL) x
        WHERE r.row_no = x.row_no AND x.n > 1""",
    "UPDATE import_rows SET existing = true WHERE contact_id IS NOT NULL",
)
# Existing contacts take the file's non-empty cells; an empty cell never erases anything, and a note is
# appended unless the contact's notes already hold it. Only contacts that actually change are written.
_UPDATE_EXISTING = """
    WITH source AS (
        SELECT r.contact_id AS id, r.name, coalesce(r.email, k.email) AS email, coalesce(r.phone, k.phone) AS phone,
               coalesce(r.organisation, k.organisation) AS organisation, coalesce(r.title, k.title) AS title,
               coalesce(r.linkedin_url, k.linkedin_url) AS linkedin_url,
               coalesce(r.sector, k.sector) AS sector, coalesce(r.country, k.country) AS country,
               CASE WHEN r.notes IS NULL OR strpos(coalesce(k.notes, ''), r.notes) > 0 THEN k.notes
                    WHEN k.notes IS NULL THEN r.notes
                    ELSE k.notes || E'\\n' || r.notes END AS notes,
               coalesce(r.warmness, k.warmness) AS warmness, k.warmness AS was_warmness,
               coalesce(r.past_business, k.past_business) AS past_business,
               CASE WHEN r.past_business IS NULL THEN k.past_business_currency
                    ELSE r.past_business_currency END AS past_business_currency
          FROM import_rows r JOIN contacts k ON k.id = r.contact_id
         WHERE r.existing AND r.dup_of IS NULL
           AND (r.name, coalesce(r.email, k.email), coalesce(r.phone, k.phone),
                coalesce(r.organisation, k.organisation), coalesce(r.title, k.title),
                coalesce(r.linkedin_url, k.linkedin_url), coalesce(r.sector, k.sector),
                coalesce(r.country, k.country), coalesce(r.warmness, k.warmness),
                r.notes IS NULL OR strpos(coalesce(k.notes, ''), r.notes) > 0,
                coalesce(r.past_business, k.past_business),
                CASE WHEN r.past_business IS NULL THEN k.past_business_currency ELSE r.past_business_currency END)
               IS DISTINCT FROM
               (k.name, k.email, k.phone, k.organisation, k.title, k.linkedin_url, k.sector, k.country, k.warmness,
                true, k.past_business, k.past_business_currency)
    )
    UPDATE contacts k
       SET name = s.name, email = s.email, phone = s.phone, organisation = s.organisation, title = s.title,
           linkedin_url = s.linkedin_url, sector = s.sector, country = s.country, notes = s.notes,
           warmness = s.warmness, past_business = s.past_business,
           past_business_currency = s.past_business_currency, updated_at = :now
      FROM source s
     WHERE k.id = s.id
    RETURNING k.id, s.was_warmness, s.warmness
"""
# New contacts get their ids first, in file order, so that campaign memberships can refer to them.
_INSERT_NEW = (
    """UPDATE import_rows r SET contact_id = n.id
         FROM (SELECT row_no, nextval(pg_get_serial_sequence('contacts', 'id')) AS id
                 FROM (SELECT row_no FROM import_rows
                        WHERE NOT existing AND dup_of IS NULL ORDER BY row_no) ordered) n
        WHERE r.row_no = n.row_no""",
    # A contact joining a campaign is flagged so at once (in_campaign, core.feed.ranking), not rewritten by the
    # campaign's trigger.
    """INSERT INTO contacts (id, owner_id, name, email, phone, organisation, title, linkedin_url, sector,
                            country, notes, warmness, past_business, past_business_currency, in_campaign,
                            created_at, updated_at)
       SELECT contact_id, :owner, name, email, phone, organisation, title, linkedin_url, sector, country, notes,
              coalesce(warmness, 0), coalesce(past_business, 0), past_business_currency, campaign_id IS NOT NULL,
              :now, :now
         FROM import_rows WHERE NOT existing AND dup_of IS NULL ORDER BY row_no""",
)
_ADD_TO_CAMPAIGNS = """
    INSERT INTO campaign_contacts (campaign_id, contact_id, outreach_method, added_by, added_at)
    SELECT campaign_id, contact_id, method, :actor, :now
      FROM import_rows WHERE dup_of IS NULL AND campaign_id IS NOT NULL ORDER BY row_no
    ON CONFLICT (campaign_id, contact_id) DO NOTHING
    RETURNING campaign_id
"""
_IN_THE_BANK = """
    SELECT r.row_no AS position, k.name, k.email
      FROM import_rows r JOIN contacts k ON k.id = r.contact_id
     WHERE r.dup_of IS NULL AND k.email IS NOT NULL
"""


@handles
async def import_contacts(cmd: ImportContacts, ctx: Context) -> ImportReport:
    """The ImportContacts handler: read the file, then write everything in the caller's one transaction."""
    if cmd.mode not in MODES:
        raise InvalidInput("Existing contacts are either updated or skipped.")
    actor = await load_user(ctx, cmd.actor.user_id)
    owner = actor
    if cmd.owner_id is not None and cmd.owner_id != actor.id:
        require_golden_ticket(actor, "import into someone else's bank")
        owner = await load_user(ctx, cmd.owner_id)
    default_campaign = await find_campaign(ctx, cmd.campaign) if cmd.campaign else None
    if default_campaign is not None and default_campaign.status == "closed":
        raise InvalidInput(f"Campaign “{default_campaign.name}” is closed.")
    region = (cmd.phone_region or ctx.settings.phone_region).strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidInput(f"“{region[:10]}” is not a country code I know for phone numbers (e.g. GB, FR, US).")
    now = ctx.clock.now()
    session = ctx.session
    # Two imports into one bank at once would both see a contact as new: the second waits for the first.
    await session.execute(text("SELECT pg_advisory_xact_lock(:lock, :owner)"), {"lock": IMPORT_LOCK, "owner": owner.id})
    campaigns = {
        name.lower(): (cid, name, status)
        for cid, name, status in (await session.execute(select(Campaign.id, Campaign.name, Campaign.status))).all()
    }

    file = ContactFile(cmd.source, phone_region=region, count_rows=cmd.progress is not None)
    try:
        rejected, cell_warnings = await _stage(ctx, file, cmd, campaigns, default_campaign)
    finally:
        file.close()
    params = {"owner": owner.id, "actor": actor.id, "now": now}
    for statement in (*_MARK_DUPLICATES, *_MATCH_BANK):
        await session.execute(text(statement), params)
    changed: Sequence[Row] = []
    if cmd.mode == "update":
        changed = (await session.execute(text(_UPDATE_EXISTING), params)).all()
    updated = len(changed)
    warmed = [cid for cid, was, now_warmness in changed if was < WARM_THRESHOLD <= now_warmness]
    for statement in _INSERT_NEW:
        await session.execute(text(statement), params)
    # One array rather than a row per contact: a million ids are 36 MB here as a list, three times that as rows.
    inserted: list[int] = (
        await session.execute(
            text(
                """SELECT coalesce(array_agg(contact_id ORDER BY contact_id), '{}')
                     FROM import_rows WHERE NOT existing AND dup_of IS NULL"""
            )
        )
    ).scalar_one()
    warmed += (
        (
            await session.execute(
                text("SELECT contact_id FROM import_rows WHERE NOT existing AND dup_of IS NULL AND warmness >= :warm"),
                {"warm": WARM_THRESHOLD},
            )
        )
        .scalars()
        .all()
    )
    added = (await session.execute(text(_ADD_TO_CAMPAIGNS), params)).scalars().all()
    counts = (
        await session.execute(
            text(
                """SELECT count(*) FILTER (WHERE dup_of IS NULL AND NOT existing) AS new,
                  count(*) FILTER (WHERE dup_of IS NULL AND existing) AS existing
             FROM import_rows"""
            )
        )
    ).one()
    duplicates = tuple(
        ImportIssue(row, f"the same person as row {first}")
        for row, first in (
            await session.execute(
                text("SELECT row_no, dup_of FROM import_rows WHERE dup_of IS NOT NULL ORDER BY row_no")
            )
        ).all()
    )
    cell_warnings = await _of_rows_written(ctx, cell_warnings, update=cmd.mode == "update")
    await _queue_warm_syncs(ctx, cmd.actor, warmed)
    touched = sorted(
        {
            cid
            for cid in (
                await session.execute(
                    text(
                        "SELECT DISTINCT campaign_id FROM import_rows WHERE campaign_id IS NOT NULL AND dup_of IS NULL"
                    )
                )
            )
            .scalars()
            .all()
        }
    )
    warnings = await _campaign_warnings(ctx, touched)
    shared = await collisions_of_query(ctx, owner.id, _IN_THE_BANK)
    names = {cid: name for cid, name, _ in campaigns.values()}
    unknown = file.layout.unknown_columns + file.unnamed_columns_with_data
    return ImportReport(
        owner=owner.name,
        mode=cmd.mode,
        encoding=file.layout.encoding,
        delimiter=file.layout.delimiter,
        mapping=file.layout.mapping,
        unknown_columns=unknown[:REPORTED_COLUMNS],
        more_unknown_columns=max(0, len(unknown) - REPORTED_COLUMNS),
        rows=file.rows_read,
        imported=counts.new,
        updated=updated,
        unchanged=counts.existing - updated if cmd.mode == "update" else 0,
        skipped=counts.existing if cmd.mode == "skip" else 0,
        blank=file.blank_rows,
        duplicates=duplicates,
        rejected=tuple(rejected),
        cell_warnings=tuple(cell_warnings),
        campaigns=tuple(names[cid] for cid in touched),
        added_to_campaigns=len(added),
        warnings=warnings,
        collisions=shared,
        sync_queued=len(warmed),
        contact_ids=tuple(sorted((*inserted, *(cid for cid, _, _ in changed)))),
        campaign_ids=tuple(touched),
    )


async def _stage(
    ctx: Context, file: ContactFile, cmd: ImportContacts, campaigns: dict, default_campaign: Campaign | None
) -> tuple[list[ImportIssue], list[ImportIssue]]:
    """COPY the file's good rows into the staging table, batch by batch; return the rejected rows and the
    warnings about cells left out of the rows staged."""
    await ctx.session.execute(text(_CREATE_STAGING))
    # COPY is the fastest way into PostgreSQL and SQLAlchemy has no API for it: use the driver connection
    # of this very transaction.
    connection = await ctx.session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None, "this transaction holds its connection checked out, so the driver's is there"
    if cmd.progress:
        cmd.progress(0, file.total_rows)
    rejected: list[ImportIssue] = []
    warnings: list[ImportIssue] = []
    columns = ", ".join(_STAGING_COLUMNS)
    async with driver.cursor() as cursor:
        async with cursor.copy(f"COPY import_rows ({columns}) FROM STDIN") as copy:
            batch = 0
            for row in file.rows():
                if isinstance(row, ContactRow):
                    campaign_id, problem = _campaign_of(row, campaigns, default_campaign)
                    if problem is None:
                        warnings += (ImportIssue(row.row, warning) for warning in row.warnings)
                        await copy.write_row(
                            (
                                row.row,
                                row.name,
                                row.email,
                                row.phone,
                                row.organisation,
                                row.title,
                                row.linkedin_url,
                                row.sector,
                                row.country,
                                row.notes,
                                row.warmness,
                                row.method,
                                row.past_business,
                                row.past_business_currency,
                                campaign_id,
                                row.name_key,
                                row.org_key,
                            )
                        )
                    else:
                        rejected.append(ImportIssue(row.row, problem))
                else:
                    rejected.append(ImportIssue(row.row, row.reason))
                batch += 1
                if batch == BATCH_ROWS:
                    batch = 0
                    if cmd.progress:
                        cmd.progress(file.rows_read, max(file.total_rows, file.rows_read))
                    await asyncio.sleep(0)  # a long file must not keep a chat bot on the same loop waiting
    if cmd.progress:
        cmd.progress(file.rows_read, file.rows_read)
    await ctx.session.execute(text("ANALYZE import_rows"))
    return rejected, warnings


async def _of_rows_written(ctx: Context, warnings: list[ImportIssue], *, update: bool) -> list[ImportIssue]:
    """The warnings about rows that were imported: not those of a duplicate, nor of a contact skipped."""
    if not warnings:
        return []
    written = set(
        (
            await ctx.session.execute(
                text(
                    """SELECT row_no FROM import_rows
                        WHERE row_no = ANY(:rows) AND dup_of IS NULL AND (NOT existing OR :update)"""
                ),
                {"rows": sorted({issue.row for issue in warnings}), "update": update},
            )
        )
        .scalars()
        .all()
    )
    return [issue for issue in warnings if issue.row in written]


def _campaign_of(row: ContactRow, campaigns: dict, default: Campaign | None) -> tuple[int | None, str | None]:
    """The campaign a row joins (its own Campaign cell, else the import's campaign), or why it can't."""
    if row.campaign is None:
        return (default.id if default else None), None
    found = campaigns.get(row.campaign.lower())
    if found is None:
        return None, f"there is no campaign “{row.campaign[:60]}”"
    campaign_id, name, status = found
    if status == "closed":
        return None, f"campaign “{name}” is closed"
    return campaign_id, None


async def _queue_warm_syncs(ctx: Context, actor: Actor, contact_ids: list[int]) -> None:
    """Contacts the import made warm go to Pipedrive, as when a user flags one warm."""
    for start in range(0, len(contact_ids), BATCH_ROWS):
        chunk = contact_ids[start : start + BATCH_ROWS]
        for contact in (await ctx.session.execute(select(Contact).where(Contact.id.in_(chunk)))).scalars():
            await queue_sync(ctx, actor, contact, "ContactWarmed", warmness=contact.warmness)
    await ctx.session.flush()


async def _campaign_warnings(ctx: Context, campaign_ids: list[int]) -> tuple[str, ...]:
    if not campaign_ids:
        return ()
    warnings = []
    low, high = CAMPAIGN_SIZE_HINT
    for name, count in (
        await ctx.session.execute(
            text(
                """SELECT c.name, count(cc.id) FROM campaigns c JOIN campaign_contacts cc ON cc.campaign_id = c.id
                WHERE c.id = ANY(:ids) GROUP BY c.name ORDER BY c.name"""
            ),
            {"ids": campaign_ids},
        )
    ).all():
        if count > high:
            warnings.append(f"“{name}” now has {count} contacts; campaigns work best with {low}-{high}.")
    return tuple(warnings)
