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


# Every bank (`find everyone`). The contacts are read in list order from ix_contacts_listed, which carries
# search_key: the first LIST_READ of them are matched and ranked from the index alone. A rank with fewer matches
# than the limit among them is then looked up by an index (a field equal to the text: the fields' GIN; the others:
# the GIN of the trigrams inside the words of names and organisations, or the words' GIN for a text too short for
# trigrams) and its matches sorted in list order. A piece inside a word that has no trigram there (under three
# letters, digits, or only in an email) has no index: it is looked for among the first LIST_READ contacts only.
LIST_READ = 10_000
LISTED = (Contact.warmness.desc(), Contact.name, Contact.id)
RANKS = ("field", "word start", "in word")
# The lookups read only their indexes (a bitmap of the GIN's matches), never the contacts in list order past
# LIST_READ, nor in parallel (a few hundred rows are not worth the workers on a busy server).
LOOKUP_SETTINGS = {
    "enable_seqscan": "off",
    "enable_indexscan": "off",
    "enable_indexonlyscan": "off",
    "max_parallel_workers_per_gather": "0",
}


def word_trigrams(folded: str, *, in_word: bool) -> list[str]:
    """Trigrams that contact_trigrams (migration 0027) gives every contact whose name or organisation holds the
    text: from the letters of its words without their first letter (a word of the contact starts there), or of the
    first word whole when the text starts inside a word (`in_word`); of each run of letters the first and the last
    trigram (few rows have them all, and every further trigram is one more list of the index to read)."""
    pieces: list[str] = []
    for n, run in enumerate(re.finditer(r"[a-z0-9]+", folded)):
        word = run.group() if n == 0 and in_word and run.start() == 0 else run.group()[1:]
        pieces += [piece for piece in re.findall(r"[a-z]+", word) if len(piece) >= 3]
    return sorted({gram for piece in pieces for gram in (piece[:3], piece[-3:])})


@dataclass(frozen=True)
class EveryBankSearch:
    """The conditions of `find everyone TEXT` (the text folded), rank by rank; the ranks don't overlap."""

    folded: str

    @property
    def holds(self) -> ColumnElement:
        return Contact.search_key.like(f"%{escape_like(self.folded)}%", escape="\\")

    @property
    def field(self) -> ColumnElement:
        return func.contact_fields(Contact.search_key).op("@>")(cast(postgresql.array([self.folded]), ARRAY(Text)))

    @property
    def word_start(self) -> ColumnElement:
        return Contact.search_key.regexp_match(f"(^|[^a-z0-9]){re.escape(self.folded)}")

    def walk(self, limit: int) -> Select:
        """(rank, ids) of the first `limit` matches of each rank among the first LIST_READ contacts in list order,
        read from ix_contacts_listed alone."""
        first = (
            select(Contact.id, Contact.warmness, Contact.name, Contact.search_key)
            .where(Contact.archived_at.is_(None))
            .order_by(*LISTED)
            .limit(LIST_READ)
            .subquery("listed")
        )
        key = first.c.search_key
        lines = literal("\n") + key + literal("\n")
        rank = case(
            (lines.like(f"%\n{escape_like(self.folded)}\n%", escape="\\"), literal(0)),
            (key.regexp_match(f"(^|[^a-z0-9]){re.escape(self.folded)}"), literal(1)),
            else_=literal(2),
        )
        matched = (
            select(first.c.id, first.c.warmness, first.c.name, rank.label("rank"))
            .where(key.like(f"%{escape_like(self.folded)}%", escape="\\"))
            .subquery("matched")
        )
        ids = func.array_agg(
            postgresql.aggregate_order_by(matched.c.id, matched.c.warmness.desc(), matched.c.name, matched.c.id)
        )
        return select(matched.c.rank, ids[1:limit]).group_by(matched.c.rank)

    def _trigrams(self, rank: int) -> ColumnElement | None:
        grams = word_trigrams(self.folded, in_word=rank == 2)
        if not grams:
            return None
        return func.contact_trigrams(Contact.search_key).op("@>")(cast(postgresql.array(grams), ARRAY(Text)))

    def _words(self) -> ColumnElement | None:
        tsquery = word_prefix_query(self.folded)
        if tsquery is None:
            return None
        return func.contact_words(Contact.search_key).op("@@")(
            func.to_tsquery(literal_column("'simple'::regconfig"), tsquery)
        )

    def lookup(self, rank: int) -> ColumnElement | None:
        """The contacts of that rank, by an index; None when no index serves it. A word start is looked up by the
        words' GIN when the text is one word of three letters or more (few words start with it, or the first
        contacts would have shown it), else by the trigrams of its words."""
        kept = Contact.archived_at.is_(None)
        if rank == 0:
            return and_(self.field, kept)
        if rank == 1:
            one_word = re.fullmatch(r"[a-z0-9]{3,}", self.folded) is not None
            indexed = self._words() if one_word else None
            if indexed is None:
                indexed = self._trigrams(1)
            if indexed is None:
                indexed = self._words()
            return None if indexed is None else and_(indexed, self.word_start, not_(self.field), kept)
        indexed = self._trigrams(2)
        return None if indexed is None else and_(indexed, self.holds, not_(self.word_start), kept)

    def lookup_after_field(self) -> ColumnElement | None:
        """Both other ranks at once, by the trigrams every one of them has (None when the text has none)."""
        indexed = self._trigrams(1)
        if indexed is None:
            return None
        return and_(indexed, self.holds, not_(self.field), Contact.archived_at.is_(None))

    def rank_after_field(self) -> ColumnElement:
        return case((self.word_start, literal(1)), else_=literal(2))


async def find_in_every_bank(session, text: str, limit: int) -> list[Contact]:
    """Up to `limit` contacts of every bank matching the text, best first (as `find` ranks them)."""
    search = EveryBankSearch(await fold(session, text))
    walked = {rank: list(ids) for rank, ids in (await session.execute(search.walk(limit))).all()}
    lookups = _Lookups(session)
    try:
        chosen = walked.get(0, [])
        if len(chosen) < limit:
            chosen = await lookups.ids(search.lookup(0), limit) or chosen
        need = limit - len(chosen)
        word_start, in_word = walked.get(1, []), walked.get(2, [])
        both = search.lookup_after_field()
        if need <= 0 or len(word_start) >= need:
            chosen += word_start[:need]
        elif len(in_word) < need and both is not None:  # both ranks are rare: one look at the index for the two
            chosen += await lookups.ids(both, need, first=search.rank_after_field()) or []
        else:
            chosen += (await lookups.ids(search.lookup(1), need) or word_start)[:need]
            need = limit - len(chosen)
            if need > 0:
                chosen += (
                    in_word[:need] if len(in_word) >= need else await lookups.ids(search.lookup(2), need) or in_word
                )
    finally:
        await lookups.done()
    chosen = chosen[:limit]
    if not chosen:
        return []
    rows = {k.id: k for k in (await session.execute(select(Contact).where(Contact.id.in_(chosen)))).scalars()}
    return [rows[i] for i in chosen]


class _Lookups:
    """Index lookups in list order, under LOOKUP_SETTINGS (set at the first, put back by `done`)."""

    def __init__(self, session) -> None:
        self.session = session
        self.saved: dict[str, str] | None = None

    async def ids(self, condition: ColumnElement | None, limit: int, first=None) -> list[int] | None:
        """The first `limit` contacts meeting `condition` (after `first`, if given, in its order), or None when
        there is no condition."""
        if condition is None:
            return None
        if self.saved is None:
            self.saved = await _set(self.session, LOOKUP_SETTINGS)
        order = (first, *LISTED) if first is not None else LISTED
        query = select(Contact.id).where(condition).order_by(*order).limit(limit)
        return list((await self.session.execute(query)).scalars())

    async def done(self) -> None:
        if self.saved is not None:
            await _set(self.session, self.saved)


async def _set(session, settings: dict[str, str]) -> dict[str, str]:
    """Set these planner settings for the transaction; the values they had."""
    names = list(settings)
    row = (
        await session.execute(
            select(
                *(func.current_setting(name) for name in names),
                *(func.set_config(name, value, True) for name, value in settings.items()),
            )
        )
    ).one()
    return dict(zip(names, row[: len(names)], strict=True))
