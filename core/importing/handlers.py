"""CSV import, the write: the ImportContacts handler, on the rows core.importing.reader reads.

Writing (`import_contacts`) happens in ONE transaction, the one `Core.execute` opens. The file is written in
chunks while it is read: each chunk is COPYed into a temporary table and settled there by a few set-based
statements (duplicates inside the file, matches in the bank: same email, else same name and organisation, new
contacts inserted), PostgreSQL working on one chunk while this process reads and validates the next. Rows
without an email are settled at the end of the file, then existing contacts are updated or skipped and
campaign memberships added. A crash or a lost connection at any point leaves nothing written; running the same
import again is the way to resume, and it is safe because importing a file twice changes nothing the second
time (unchanged contacts are not even touched). One transaction also gives the chat uploads exactly-once
delivery through `Core.execute(..., idempotency_key=...)`."""

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
CHUNK_ROWS = 10_000  # rows written at a time, while the next ones are read
YIELD_ROWS = 100  # rows read between two turns of the event loop
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
_CREATE_STAGING = (
    """CREATE TEMPORARY TABLE import_rows (
        row_no int PRIMARY KEY, name text NOT NULL, email text, phone text, organisation text, title text,
        linkedin_url text, sector text, country text, notes text, warmness smallint, method text,
        past_business numeric(14, 2), past_business_currency text, campaign_id int,
        name_key text NOT NULL, org_key text NOT NULL,
        dup_of int, contact_id int, existing boolean NOT NULL DEFAULT false
    ) ON COMMIT DROP""",
    "CREATE INDEX ON import_rows (email, row_no)",
    "CREATE INDEX ON import_rows (contact_id) WHERE existing",
    "CREATE TEMPORARY TABLE import_chunk (LIKE import_rows INCLUDING DEFAULTS) ON COMMIT DROP",
    # The bank's contacts without an email, as they were before the import: a row with an email matches one of
    # them by name and organisation. The import only adds contacts with an email until its last step.
    """CREATE TEMPORARY TABLE bank_unmailed ON COMMIT DROP AS
       SELECT id, lower(name) AS name_key, lower(coalesce(organisation, '')) AS org_key
         FROM contacts WHERE owner_id = :owner AND email IS NULL""",
    "CREATE INDEX ON bank_unmailed (name_key, org_key, id)",
    "ANALYZE bank_unmailed",
)
# The file is written chunk by chunk: each chunk of rows is COPYed into import_chunk and settled there, against
# the rows before it (import_rows) and the bank, while the next chunk is read. A row with an email is settled at
# once: whether it repeats an email of the file, matches a contact of the bank, or is new depends only on the
# rows before it. A row without an email waits for the end of the file: it is the same person as a later row
# with its name, organisation and an email. Each lookup is an index probe, so that a chunk costs the same at
# the millionth row as at the first.
_SETTLE_CHUNK = (
    # Inside the file: the same email is the same person as its first row.
    """UPDATE import_chunk c SET dup_of = f.first
         FROM (SELECT x.row_no, coalesce((SELECT min(e.row_no) FROM import_rows e WHERE e.email = x.email),
                                         min(x.row_no) OVER (PARTITION BY x.email)) AS first
                 FROM import_chunk x WHERE x.email IS NOT NULL) f
        WHERE c.row_no = f.row_no AND f.first <> c.row_no""",
    # In the bank: the same email.
    """UPDATE import_chunk c SET contact_id = m.id, existing = true
         FROM (SELECT x.row_no, (SELECT k.id FROM contacts k
                                  WHERE k.owner_id = :owner AND k.email IS NOT NULL AND lower(k.email) = x.email) AS id
                 FROM import_chunk x WHERE x.email IS NOT NULL AND x.dup_of IS NULL) m
        WHERE c.row_no = m.row_no AND m.id IS NOT NULL""",
    # Else a contact without an email, by name and organisation, unless a row before took it.
    """UPDATE import_chunk c SET contact_id = m.id, existing = true
         FROM (SELECT DISTINCT ON (m.id) m.row_no, m.id
                 FROM (SELECT x.row_no, (SELECT b.id FROM bank_unmailed b
                                          WHERE b.name_key = x.name_key AND b.org_key = x.org_key
                                          ORDER BY b.id LIMIT 1) AS id
                         FROM import_chunk x
                        WHERE x.email IS NOT NULL AND x.dup_of IS NULL AND NOT x.existing) m
                WHERE m.id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM import_rows e WHERE e.existing AND e.contact_id = m.id)
                ORDER BY m.id, m.row_no) m
        WHERE c.row_no = m.row_no""",
    # New contacts get their ids in file order (a row without an email gets one too, used if it turns out new);
    # those with an email are written, and the chunk joins the rows before it, in one statement. A contact joining
    # a campaign is flagged so at once (in_campaign, core.feed.ranking), not rewritten by the campaign's trigger.
    f"""WITH new AS MATERIALIZED (
            SELECT row_no, nextval(pg_get_serial_sequence('contacts', 'id')) AS id
              FROM (SELECT row_no FROM import_chunk WHERE NOT existing AND dup_of IS NULL ORDER BY row_no) ordered),
        written AS (
            INSERT INTO contacts (id, owner_id, name, email, phone, organisation, title, linkedin_url, sector,
                                  country, notes, warmness, past_business, past_business_currency, in_campaign,
                                  created_at, updated_at)
            SELECT n.id, :owner, c.name, c.email, c.phone, c.organisation, c.title, c.linkedin_url, c.sector,
                   c.country, c.notes, coalesce(c.warmness, 0), coalesce(c.past_business, 0),
                   c.past_business_currency, c.campaign_id IS NOT NULL, :now, :now
              FROM import_chunk c JOIN new n USING (row_no)
             WHERE c.email IS NOT NULL ORDER BY c.row_no)
       INSERT INTO import_rows
       SELECT {", ".join("c." + column for column in _STAGING_COLUMNS)}, c.dup_of, coalesce(n.id, c.contact_id),
              c.existing
         FROM import_chunk c LEFT JOIN new n USING (row_no)""",
    "TRUNCATE import_chunk",
)
# At the end of the file, the rows without an email: the same person as another row with their name and
# organisation (one with an email is preferred as the one that stays); else a contact of the bank with them
# (one without an email preferred) that no row took before; else new.
_SETTLE_UNMAILED = (
    """UPDATE import_rows r SET dup_of = d.first
         FROM (SELECT row_no, first_value(row_no) OVER (PARTITION BY name_key, org_key
                                                       ORDER BY email IS NULL, row_no) AS first
                 FROM import_rows WHERE dup_of IS NULL) d
        WHERE r.row_no = d.row_no AND r.email IS NULL AND d.first <> r.row_no""",
    """UPDATE import_rows r SET contact_id = m.id, existing = true
         FROM (SELECT DISTINCT ON (m.id) m.row_no, m.id
                 FROM (SELECT DISTINCT ON (r.row_no) r.row_no, k.id
                         FROM import_rows r
                         JOIN contacts k ON k.owner_id = :owner AND lower(k.name) = r.name_key
                                        AND lower(coalesce(k.organisation, '')) = r.org_key
                        WHERE r.email IS NULL AND r.dup_of IS NULL
                        ORDER BY r.row_no, k.email IS NULL DESC, k.id) m
                WHERE NOT EXISTS (SELECT 1 FROM import_rows e WHERE e.existing AND e.contact_id = m.id)
                ORDER BY m.id, m.row_no) m
        WHERE r.row_no = m.row_no""",
    """INSERT INTO contacts (id, owner_id, name, email, phone, organisation, title, linkedin_url, sector,
                            country, notes, warmness, past_business, past_business_currency, in_campaign,
                            created_at, updated_at)
       SELECT contact_id, :owner, name, email, phone, organisation, title, linkedin_url, sector, country, notes,
              coalesce(warmness, 0), coalesce(past_business, 0), past_business_currency, campaign_id IS NOT NULL,
              :now, :now
         FROM import_rows WHERE NOT existing AND dup_of IS NULL AND email IS NULL ORDER BY row_no""",
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

    params = {"owner": owner.id, "actor": actor.id, "now": now}
    file = ContactFile(cmd.source, phone_region=region, count_rows=cmd.progress is not None)
    try:
        rejected, cell_warnings = await _write_rows(ctx, file, cmd, params, campaigns, default_campaign)
    finally:
        file.close()
    for statement in _SETTLE_UNMAILED:
        await session.execute(text(statement), params)
    changed: Sequence[Row] = []
    if cmd.mode == "update":
        changed = (await session.execute(text(_UPDATE_EXISTING), params)).all()
    updated = len(changed)
    warmed = [cid for cid, was, now_warmness in changed if was < WARM_THRESHOLD <= now_warmness]
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


async def _write_rows(
    ctx: Context,
    file: ContactFile,
    cmd: ImportContacts,
    params: dict,
    campaigns: dict,
    default_campaign: Campaign | None,
) -> tuple[list[ImportIssue], list[ImportIssue]]:
    """Read the file and write its rows chunk by chunk, PostgreSQL settling one chunk while the next is read;
    return the rejected rows and the warnings about cells left out of the rows kept."""
    for statement in _CREATE_STAGING:
        await ctx.session.execute(text(statement), params)
    if cmd.progress:
        cmd.progress(0, file.total_rows)
    rejected: list[ImportIssue] = []
    warnings: list[ImportIssue] = []
    chunk: list[tuple] = []
    writing: asyncio.Task | None = None
    try:
        batch = 0
        for row in file.rows():
            if isinstance(row, ContactRow):
                campaign_id, problem = _campaign_of(row, campaigns, default_campaign)
                if problem is None:
                    if row.warnings:
                        warnings += (ImportIssue(row.row, warning) for warning in row.warnings)
                    chunk.append(_staged(row, campaign_id))
                else:
                    rejected.append(ImportIssue(row.row, problem))
            else:
                rejected.append(ImportIssue(row.row, row.reason))
            batch += 1
            if batch % YIELD_ROWS == 0:
                # Lets the chunk being written go on to its next statement, and a chat bot on the same loop answer.
                await asyncio.sleep(0)
            if batch == BATCH_ROWS:
                batch = 0
                if cmd.progress:
                    cmd.progress(file.rows_read, max(file.total_rows, file.rows_read))
            if len(chunk) >= CHUNK_ROWS:
                if writing is not None:
                    await writing
                writing = asyncio.ensure_future(_write_chunk(ctx, chunk, params))
                chunk = []
        if writing is not None:
            await writing
        writing = None
        if chunk:
            await _write_chunk(ctx, chunk, params)
    finally:
        if writing is not None:
            # The session is this chunk's until its statement returns; the transaction is rolled back after.
            await asyncio.gather(writing, return_exceptions=True)
    if cmd.progress:
        cmd.progress(file.rows_read, file.rows_read)
    await ctx.session.execute(text("ANALYZE import_rows"))
    return rejected, warnings


def _staged(row: ContactRow, campaign_id: int | None) -> tuple:
    return (
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


async def _write_chunk(ctx: Context, rows: list[tuple], params: dict) -> None:
    """COPY a chunk of rows into import_chunk, then settle and write it."""
    # COPY is the fastest way into PostgreSQL and SQLAlchemy has no API for it: use the driver connection
    # of this very transaction.
    connection = await ctx.session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None, "this transaction holds its connection checked out, so the driver's is there"
    async with driver.cursor() as cursor:
        async with cursor.copy(f"COPY import_chunk ({', '.join(_STAGING_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                await copy.write_row(row)
    for statement in _SETTLE_CHUNK:
        await ctx.session.execute(text(statement), params)


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
