"""A person in more than one bank: the same email (compared lower-cased) in a colleague's bank (a contact they
removed from it does not count).

Every way a person enters a bank or a campaign asks here (`add`, `warm`, `campaign add`, the CSV import) and
words it the same way. Only the colleague's display name is told, never anything of their contact.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text

from core.context import Context
from core.views import Collision

_OTHER_BANKS = """
    SELECT lower(k.email) AS email, array_agg(DISTINCT u.name ORDER BY u.name) AS owners
      FROM contacts k JOIN users u ON u.id = k.owner_id
     WHERE lower(k.email) = ANY(:emails) AND k.owner_id <> :owner AND k.archived_at IS NULL
     GROUP BY lower(k.email)
"""


async def other_banks(ctx: Context, owner_id: int, emails: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The emails (lower-cased) among `emails` that are also in a bank other than `owner_id`'s, with the
    display names of those banks' owners."""
    wanted = sorted({email.lower() for email in emails if email})
    if not wanted:
        return {}
    rows = await ctx.session.execute(text(_OTHER_BANKS), {"emails": wanted, "owner": owner_id})
    return {email: tuple(owners) for email, owners in rows.all()}


async def collisions(ctx: Context, owner_id: int, people: Iterable[tuple[str, str | None]]) -> tuple[Collision, ...]:
    """Which of `people` ((name, email) pairs of `owner_id`'s bank) are also in a colleague's bank, in order."""
    people = list(people)
    found = await other_banks(ctx, owner_id, (email for _, email in people if email))
    return tuple(Collision(name, found[email.lower()]) for name, email in people if email and email.lower() in found)


_OTHER_BANKS_OF_QUERY = """
    SELECT p.name, array_agg(DISTINCT u.name ORDER BY u.name) AS owners
      FROM ({people}) p
      JOIN contacts k ON lower(k.email) = lower(p.email) AND k.owner_id <> :owner AND k.archived_at IS NULL
      JOIN users u ON u.id = k.owner_id
     GROUP BY p.position, p.name
     ORDER BY p.position
"""


async def collisions_of_query(ctx: Context, owner_id: int, people: str) -> tuple[Collision, ...]:
    """`collisions` for the people an SQL query gives (columns position, name, email), matched in the database:
    for as many people as an import brings, without holding them all here."""
    # Each side is read once and hashed: a nested loop, which estimates made in the middle of a big import can
    # choose, would read every colleague's contact again for each person.
    await ctx.session.execute(text("SET LOCAL enable_nestloop = off"))
    try:
        rows = (await ctx.session.execute(text(_OTHER_BANKS_OF_QUERY.format(people=people)), {"owner": owner_id})).all()
    finally:
        await ctx.session.execute(text("RESET enable_nestloop"))
    return tuple(Collision(name, tuple(owners)) for name, owners in rows)


async def collision_note(ctx: Context, owner_id: int, name: str, email: str | None) -> str:
    """“ Note: Ana Lima is also in Carl's bank.” to append to a reply, or "" when the person is in no other bank."""
    found = await collisions(ctx, owner_id, [(name, email)])
    return f" Note: {found[0].sentence}" if found else ""
