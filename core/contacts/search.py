"""`find`: a user's contacts whose name, email or organisation holds the text, accents and case folded; exact
matches first, then those where a word starts with it, then in-word fragments.

Word prefixes are read from the GIN index of search_key's words (ix_contacts_search_words). Fragments use the
trigram index where the server has pg_trgm; otherwise they are a scan of the user's own contacts (a bank of
10,000 is a few milliseconds), run only when the prefix matches leave room in the list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ARRAY, ColumnElement, Select, Text, and_, case, cast, func, literal, literal_column, not_, select
from sqlalchemy import text as text_sql
from sqlalchemy.dialects import postgresql

from core.context import escape_like
from core.models import Contact


def word_prefix_query(folded: str) -> str | None:
    """The tsquery (every word of the text a word prefix), or None when the text has no letters or digits."""
    words = re.findall(r"[a-z0-9]+", folded)
    return " & ".join(f"{w}:*" for w in words) or None


async def fold(session, text: str) -> str:
    """The text as search_key holds it (contact_fold in PostgreSQL, so both sides fold alike)."""
    return await session.scalar(select(func.contact_fold(text))) or ""


def _rank(folded: str):
    """0 for a field equal to the text, 1 for a word starting with it, 2 for the rest (search_key holds name,
    email and organisation on lines of their own)."""
    text = re.escape(folded)
    return case(
        (Contact.search_key.regexp_match(f"(^|\\n){text}(\\n|$)"), literal(0)),
        (Contact.search_key.regexp_match(f"(^|[^a-z0-9]){text}"), literal(1)),
        else_=literal(2),
    )


def find_queries(owner_id: int, folded: str, limit: int) -> tuple[Select | None, Select]:
    """The prefix query (by the words index; None when the text has no word) and the fragment query (the rest)."""
    holds = Contact.search_key.like(f"%{escape_like(folded)}%", escape="\\")
    own = and_(Contact.owner_id == owner_id, Contact.archived_at.is_(None))
    order = (Contact.warmness.desc(), Contact.name, Contact.id)
    tsquery = word_prefix_query(folded)
    if tsquery is None:
        return None, select(Contact).where(own, holds).order_by(_rank(folded), *order).limit(limit)
    words = func.contact_words(Contact.search_key).op("@@")(
        func.to_tsquery(literal_column("'simple'::regconfig"), tsquery)
    )
    prefix = select(Contact).where(own, words, holds).order_by(_rank(folded), *order).limit(limit)
    fragment = select(Contact).where(own, holds).order_by(*order).limit(limit)
    return prefix, fragment


async def find(session, owner_id: int, text: str, limit: int) -> list[Contact]:
    """Up to `limit` contacts of the owner's bank matching the text, best first."""
    folded = await fold(session, text)
    prefix, fragment = find_queries(owner_id, folded, limit)
    found: list[Contact] = []
    if prefix is not None:
        found = list((await session.execute(prefix)).scalars().all())
    if len(found) < limit:
        rest = fragment.where(Contact.id.not_in([k.id for k in found])) if found else fragment
        found += (await session.execute(rest.limit(limit - len(found)))).scalars().all()
    return found


# Every bank (`find everyone`): a stage with more than this many matches reads the contacts in list order
# (ix_contacts_listed) and stops at the limit, or after LIST_READ contacts (so a list of a common word shows the
# matches among the first 10,000 contacts); one with fewer fetches its matches by an index and sorts them. The
# matches are counted by the stage's index (up to this many); in-word pieces have an index only where the server
# has pg_trgm, so they are judged by the planner's statistics, and looked for where no index serves only when
# they are common (a rare piece would be a scan of every bank).
DENSE = 1000
LIST_READ = 10_000  # contacts read at most, in list order, by a stage with many matches
LISTED = (Contact.warmness.desc(), Contact.name, Contact.id)


@dataclass(frozen=True)
class Stage:
    """Contacts of one rank: `rows` says which; `indexed` (when not None) is implied by `rows` and read by an index."""

    rows: ColumnElement
    indexed: ColumnElement | None = None


def every_bank_stages(folded: str) -> list[Stage]:
    """The stages of `find everyone`, best first: a field equal to the text, a word starting with it, a piece
    inside a word. The stages don't overlap."""
    escaped = re.escape(folded)
    kept = Contact.archived_at.is_(None)
    holds = Contact.search_key.like(f"%{escape_like(folded)}%", escape="\\")
    tsquery = word_prefix_query(folded)
    if tsquery is None:
        return [Stage(and_(holds, kept))]
    field = func.contact_fields(Contact.search_key).op("@>")(cast(postgresql.array([folded]), ARRAY(Text)))
    words = func.contact_words(Contact.search_key).op("@@")(
        func.to_tsquery(literal_column("'simple'::regconfig"), tsquery)
    )
    word_start = Contact.search_key.regexp_match(f"(^|[^a-z0-9]){escaped}")
    return [
        Stage(kept, field),
        Stage(and_(word_start, kept, not_(field)), words),
        Stage(and_(holds, kept, not_(word_start))),
    ]


async def find_in_every_bank(session, text: str, limit: int) -> list[Contact]:
    """Up to `limit` contacts of every bank matching the text, best first (as `find` ranks them)."""
    found: list[Contact] = []
    trigrams = None
    for stage in every_bank_stages(await fold(session, text)):
        if len(found) >= limit:
            break
        if stage.indexed is None and trigrams is None:
            trigrams = bool(await session.scalar(text_sql("SELECT to_regclass('ix_contacts_search_trigrams')")))
        found += await _stage(session, stage, limit - len(found), trigrams=bool(trigrams))
    return found


async def expected_rows(session, condition: ColumnElement) -> float:
    """How many contacts the planner expects to meet `condition` (from its statistics)."""
    connection = await session.connection()
    compiled = select(Contact.id).where(condition).compile(dialect=connection.dialect)
    result = await connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params)
    (plan,) = result.one()
    return float(plan[0]["Plan"]["Plan Rows"])


_LIST_ORDER = ("enable_bitmapscan", "enable_seqscan", "enable_sort")


async def matches_up_to(session, condition: ColumnElement, cap: int) -> int:
    """How many contacts meet `condition` (read by its index), counting no further than `cap`."""
    found = select(literal(1)).where(condition).limit(cap).subquery()
    return await session.scalar(select(func.count()).select_from(found)) or 0


async def _stage(session, stage: Stage, limit: int, *, trigrams: bool) -> list[Contact]:
    if stage.indexed is not None:
        many = await matches_up_to(session, stage.indexed, DENSE + 1) > DENSE
    else:
        many = await expected_rows(session, stage.rows) > DENSE
    if not many:
        if stage.indexed is None and not trigrams:
            return []  # a rare in-word piece, and no index to find it by
        rows = stage.rows if stage.indexed is None else and_(stage.indexed, stage.rows)
        return list((await session.execute(select(Contact).where(rows).order_by(*LISTED).limit(limit))).scalars())
    # Many matches: the first of them in list order are near the start of the listed index.
    for setting in _LIST_ORDER:
        await session.execute(text_sql(f"SET LOCAL {setting} = off"))
    try:
        query = select(Contact).where(stage.rows).order_by(*LISTED).limit(limit)
        first = select(Contact.id).where(Contact.archived_at.is_(None)).order_by(*LISTED).limit(LIST_READ)
        query = query.where(Contact.id.in_(first.scalar_subquery()))
        return list((await session.execute(query)).scalars())
    finally:
        for setting in _LIST_ORDER:
            await session.execute(text_sql(f"SET LOCAL {setting} = DEFAULT"))
