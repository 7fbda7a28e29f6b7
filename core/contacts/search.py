"""`find`: a user's contacts whose name, email or organisation holds the text, accents and case folded; exact
matches first, then those where a word starts with it, then in-word fragments.

Word prefixes are read from the GIN index of search_key's words (ix_contacts_search_words). Fragments use the
trigram index where the server has pg_trgm; otherwise they are a scan of the user's own contacts (a bank of
10,000 is a few milliseconds), run only when the prefix matches leave room in the list.
"""

from __future__ import annotations

import re

from sqlalchemy import Select, and_, case, func, literal, literal_column, select

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


def find_queries(owner_id: int | None, folded: str, limit: int) -> tuple[Select | None, Select]:
    """The prefix query (by the words index; None when the text has no word) and the fragment query (the rest);
    in one bank, or with `owner_id` None in every bank."""
    holds = Contact.search_key.like(f"%{escape_like(folded)}%", escape="\\")
    kept = Contact.archived_at.is_(None)
    own = kept if owner_id is None else and_(Contact.owner_id == owner_id, kept)
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


async def find(session, owner_id: int | None, text: str, limit: int) -> list[Contact]:
    """Up to `limit` contacts of `owner_id`'s bank (None: of every bank) matching the text, best first."""
    folded = await fold(session, text)
    prefix, fragment = find_queries(owner_id, folded, limit)
    found: list[Contact] = []
    if prefix is not None:
        found = list((await session.execute(prefix)).scalars().all())
    if len(found) < limit:
        rest = fragment.where(Contact.id.not_in([k.id for k in found])) if found else fragment
        found += (await session.execute(rest.limit(limit - len(found)))).scalars().all()
    return found
