"""What every handler works with: the unit of work's `Context`, the loaders that resolve what a user named and check
they may touch it, and the conversions of rows into views.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Row, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock
from core.command import Actor, CampaignRef, ContactRef
from core.echo import quoted
from core.errors import (
    AmbiguousContact,
    Candidate,
    ContactRemoved,
    InvalidInput,
    NotAllowed,
    NotFound,
    UnknownUser,
)
from core.models import Campaign, ChatContext, Contact, DomainEvent, User
from core.settings import Settings
from core.views import CampaignView, ContactView, SettingsView, UserView


@dataclass
class Context:
    session: AsyncSession
    clock: Clock
    settings: Settings


# --- views -------------------------------------------------------------------------------------------------


def user_view(u: User) -> UserView:
    return UserView(
        id=u.id,
        name=u.name,
        email=u.email,
        role=u.role,
        timezone=u.timezone,
        digest_time=u.digest_time,
        working_days=tuple(u.working_days),
        active=u.active,
        digest_paused_until=u.digest_paused_until,
        digest_platform=u.digest_platform,
        signature=u.signature,
    )


def settings_view(ctx: Context, user: User, message: str = "") -> SettingsView:
    """A user's settings as they read them: a pause whose first day back has come is over, not shown."""
    view = user_view(user)
    back = view.digest_paused_until
    if back is not None and back <= ctx.clock.now().astimezone(ZoneInfo(user.timezone)).date():
        view = replace(view, digest_paused_until=None)
    return SettingsView(view, message)


def contact_view(k: Contact) -> ContactView:
    return ContactView.of(k)


def campaign_view(camp: Campaign, contact_count: int = 0) -> CampaignView:
    return CampaignView(
        id=camp.id,
        name=camp.name,
        status=camp.status,
        description=camp.description,
        sector=camp.sector,
        theme=camp.theme,
        geography=camp.geography,
        start_date=camp.start_date,
        end_date=camp.end_date,
        contact_count=contact_count,
    )


def local_text(at: datetime, tz: str) -> str:
    """A short local date (and time, unless midnight) for replies: “Mon 1 Dec 14:30”."""
    local = at.astimezone(ZoneInfo(tz))
    day = f"{local:%a} {local.day} {local:%b}"
    return day if (local.hour, local.minute) == (0, 0) else f"{day} {local:%H:%M}"


# --- loading with permission checks ------------------------------------------------------------------------


async def load_user(ctx: Context, user_id: int) -> User:
    user = await ctx.session.get(User, user_id)
    if user is None or not user.active:
        raise UnknownUser()
    return user


NOT_IN_YOUR_BANK = "That contact is not in your bank."
CONTACTS_MERGED = "ContactsMerged"  # a domain event on the survivor: payload other_id, the contact merged into it


def local_day(at: datetime, tz: str) -> str:
    """A short local date for replies: “Tue 24 Nov”."""
    local = at.astimezone(ZoneInfo(tz))
    return f"{local:%a} {local.day} {local:%b}"


async def removed_error(ctx: Context, contact: Contact) -> ContactRemoved:
    """What an action on a removed contact answers: when it was removed, and how to put it back."""
    assert contact.archived_at is not None
    user = await ctx.session.get(User, contact.owner_id)
    day = local_day(contact.archived_at, user.timezone if user else ctx.settings.default_timezone)
    return ContactRemoved(
        f"{contact.name} was removed from your bank on {day}. Say `restore {contact.email or contact.name}` "
        "to put them back.",
        contact.id,
    )


async def _merged_into(ctx: Context, actor: Actor, contact_id: int) -> NotFound:
    """The answer for an id of the user's that is gone: merged into another contact of theirs, else not found."""
    survivor = (
        await ctx.session.execute(
            select(Contact.name)
            .join(DomainEvent, DomainEvent.contact_id == Contact.id)
            .where(
                DomainEvent.name == CONTACTS_MERGED,
                DomainEvent.user_id == actor.user_id,
                DomainEvent.payload["other_id"].as_integer() == contact_id,
                Contact.owner_id == actor.user_id,
            )
            .order_by(DomainEvent.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return NotFound(f"That contact was merged into {survivor}.") if survivor else NotFound(NOT_IN_YOUR_BANK)


async def load_contact(
    ctx: Context, actor: Actor, ref: ContactRef, *, lock: bool = False, removed: bool = False
) -> Contact:
    """Resolve what the user named to one contact of their own bank, or raise a user-fit error.

    A contact removed from the bank is found only when nothing in the bank matches; it is returned when
    `removed` (to show or restore it), else refused with ContactRemoved."""
    s = ctx.session
    if ref.id is not None:
        query = select(Contact).where(Contact.id == ref.id)
        contact = (await s.execute(query.with_for_update() if lock else query)).scalar_one_or_none()
        # Someone else's contact and no contact at all get one answer: an id tells nothing about other banks.
        if contact is None or contact.owner_id != actor.user_id:
            raise await _merged_into(ctx, actor, ref.id) if contact is None else NotFound(NOT_IN_YOUR_BANK)
        if contact.archived_at is not None and not removed:
            raise await removed_error(ctx, contact)
        return contact
    text_ref = (ref.text or "").strip()
    if not text_ref:
        raise InvalidInput("Which contact? Give a number from your last list, an email or part of a name.")
    if text_ref.isdigit():
        row = await s.get(ChatContext, (actor.user_id, actor.platform))
        ids = row.last_contact_ids if row else []
        index = int(text_ref)
        if not 1 <= index <= len(ids):
            raise NotFound(f"There is no row {index} in your last list. Say `today` or `find NAME` first.")
        return await load_contact(ctx, actor, ContactRef(id=ids[index - 1]), lock=lock, removed=removed)
    matches = await _matching(ctx, actor, text_ref, Contact.archived_at.is_(None))
    if not matches:
        matches = await _matching(ctx, actor, text_ref, Contact.archived_at.is_not(None))
        if len(matches) == 1 and not removed:
            raise await removed_error(ctx, matches[0])
        if matches and not removed:
            raise NotFound(f"No contact in your bank matches “{text_ref[:60]}” (removed ones do: say `removed`).")
    if not matches:
        raise NotFound(f"No contact in your bank matches “{text_ref[:60]}”.")
    if len(matches) > 1:
        raise AmbiguousContact(
            text_ref[:60], [Candidate(m.id, contact_view(m).label) for m in matches[:5]], more=len(matches) > 5
        )
    if lock:
        await s.refresh(matches[0], with_for_update=True)
    return matches[0]


async def _matching(ctx: Context, actor: Actor, text_ref: str, which) -> list[Contact]:
    """The user's contacts (of `which` kind: in the bank or removed) that `text_ref` names: by email, by whole
    name, else by part of the name."""
    s = ctx.session
    own = select(Contact).where(Contact.owner_id == actor.user_id, which)
    if "@" in text_ref:
        return list((await s.execute(own.where(func.lower(Contact.email) == text_ref.lower()))).scalars().all())
    folded_name = func.contact_fold(Contact.name)
    exact = (await s.execute(own.where(folded_name == func.contact_fold(text_ref)))).scalars().all()
    if exact:
        return list(exact)
    return list(
        (
            await s.execute(
                own.where(folded_name.like(func.contact_fold(f"%{escape_like(text_ref)}%"), escape="\\"))
                .order_by(Contact.name)
                .limit(6)
            )
        )
        .scalars()
        .all()
    )


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def remember_list(ctx: Context, actor: Actor, contact_ids: list[int]) -> None:
    """Keep the rows just shown so that `log 3 …` means the third of them."""
    stmt = pg_insert(ChatContext).values(
        user_id=actor.user_id, platform=actor.platform, last_contact_ids=contact_ids, updated_at=ctx.clock.now()
    )
    await ctx.session.execute(
        stmt.on_conflict_do_update(
            index_elements=[ChatContext.user_id, ChatContext.platform],
            set_={"last_contact_ids": stmt.excluded.last_contact_ids, "updated_at": stmt.excluded.updated_at},
        )
    )


async def find_campaign(ctx: Context, ref: CampaignRef) -> Campaign:
    if ref.id is not None:
        camp = await ctx.session.get(Campaign, ref.id)
    else:
        name = (ref.name or "").strip()
        camp = (
            await ctx.session.execute(select(Campaign).where(func.lower(Campaign.name) == name.lower()))
        ).scalar_one_or_none()
        if camp is None and name:
            found = (
                (
                    await ctx.session.execute(
                        select(Campaign)
                        .where(Campaign.name.ilike(f"%{escape_like(name)}%", escape="\\"))
                        .order_by(Campaign.name)
                        .limit(4)
                    )
                )
                .scalars()
                .all()
            )
            if len(found) > 1:
                names = ", ".join(f"“{f.name}”" for f in found[:3]) + (" …" if len(found) > 3 else "")
                raise InvalidInput(f"{quoted(name, 60)} matches several campaigns: {names}. Give more of the name.")
            camp = found[0] if found else None
    if camp is None:
        raise NotFound(f"There is no campaign {quoted(str(ref.name or ref.id), 60)}. Say `campaigns` to see them.")
    return camp


def require_golden_ticket(user: User, what: str) -> None:
    if user.role != "golden_ticket":
        raise NotAllowed(f"Only the Golden Ticket team can {what}.")


async def claim_owed(ctx: Context, model, told, owed: tuple, limit: int, returning: tuple) -> list[Row]:
    """Mark up to `limit` owed rows of `model` as told now (`told`, a column of it) and return `returning` of
    them, in the same transaction: rows another transaction is claiming are skipped, so none is taken twice."""
    claimable = select(model.id).where(*owed).order_by(model.id).limit(limit).with_for_update(skip_locked=True)
    statement = (
        update(model)
        .where(model.id.in_(claimable.scalar_subquery()))
        .values({told: ctx.clock.now()})
        .returning(*returning)
    )
    return list((await ctx.session.execute(statement)).all())
