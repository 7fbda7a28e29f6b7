"""Deals and done activities from Pipedrive, applied to the contacts linked to their person (else organisation).

A deal is kept per linked contact (`pipedrive_deals`) with what of its value counts in the contact's past
business, so a deal changed, won or sent twice counts once and one reopened, lost or deleted is taken back out.
A won deal counts in past business when its currency is the contact's (a contact with no past business takes
the deal's currency); won deals in another currency are kept and shown per currency beside it. A deal newly won
owes the contact's owner a chat message (`pipedrive_notes`, sent by the scheduler). An activity marked done in
Pipedrive is a touch (kind "pipedrive", method "pipedrive:<type>") unless the bank already holds an activity with
that Pipedrive id (one the sync created there, or the same touch received before), or it was made through the API
while one of the contact's activities was being sent there (its id not recorded yet).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select, update

from core.context import Context
from core.inbound import preload
from core.inbound.commands import PipedriveEventApplied
from core.models import Activity, Contact, FollowUp, PipedriveDeal, PipedriveEvent, PipedriveNote
from core.vocabulary import PIPEDRIVE_METHOD_PREFIX, PIPEDRIVE_TOUCH

DEAL_STATUSES = ("open", "won", "lost", "deleted")
MAX_AMOUNT = Decimal("999999999999.99")


def _data(payload: dict, *names: str) -> dict:
    for name in names:
        value = (payload or {}).get(name)
        if isinstance(value, dict) and value:
            return value
    return {}


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, dict):  # v1 shapes: {"value": 12, "name": …}
        return _int(value.get("value"))
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value)) if value is not None and not isinstance(value, bool) else Decimal(0)
    except InvalidOperation:
        return Decimal(0)
    if not amount.is_finite() or amount < 0:
        return Decimal(0)
    return min(amount, MAX_AMOUNT).quantize(Decimal("0.01"))


def _currency(value: Any) -> str | None:
    return value.strip().upper()[:3] if isinstance(value, str) and value.strip() else None


def money(amount: Decimal, currency: str | None) -> str:
    """12,000 EUR; 12,500.50 USD."""
    text = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    return f"{text} {currency}" if currency else text


async def _contacts_for(ctx: Context, person_id: int | None, org_id: int | None) -> list[Contact]:
    """The contacts linked to the person; without any, those linked to the organisation."""
    pre = preload.current()
    for column, value in ((Contact.pipedrive_person_id, person_id), (Contact.pipedrive_org_id, org_id)):
        if value is None:
            continue
        known = pre.linked(column.key, value) if pre is not None else None
        found = (
            known
            if known is not None
            else list(
                (
                    await ctx.session.execute(
                        select(Contact).where(column == value).order_by(Contact.id).with_for_update()
                    )
                )
                .scalars()
                .all()
            )
        )
        if found:
            return found
    return []


async def deal_changed(ctx: Context, event: PipedriveEvent) -> PipedriveEventApplied:
    data = _data(event.payload, "data") if event.action != "delete" else {}
    known = _data(event.payload, "data", "previous")
    status = "deleted" if event.action == "delete" or data.get("is_deleted") is True else data.get("status")
    if status not in DEAL_STATUSES:
        return PipedriveEventApplied("ignored", "a deal without a status")
    person_id, org_id = _int(known.get("person_id")), _int(known.get("org_id"))
    contacts = await _contacts_for(ctx, person_id, org_id)
    pre = preload.current()
    if pre is not None and event.entity_id in pre.deal_ids:
        rows = pre.deals[event.entity_id]
    else:
        rows = {
            r.contact_id: r
            for r in (
                await ctx.session.execute(
                    select(PipedriveDeal).where(PipedriveDeal.deal_id == event.entity_id).with_for_update()
                )
            ).scalars()
        }
    if not contacts and not rows:
        return PipedriveEventApplied("ignored", "unknown deal")
    unlinked = [i for i in rows if i not in {c.id for c in contacts}]  # linked to the deal no more
    others = (
        list(
            (
                await ctx.session.execute(
                    select(Contact).where(Contact.id.in_(unlinked)).order_by(Contact.id).with_for_update()
                )
            ).scalars()
        )
        if unlinked
        else []
    )
    title = known.get("title") if isinstance(known.get("title"), str) else None
    value, currency = _amount(known.get("value")), _currency(known.get("currency"))
    reason = known.get("lost_reason") if isinstance(known.get("lost_reason"), str) else None
    changed: list[int] = []
    stale = 0
    won_for: list[Contact] = []
    for contact, linked in [(k, True) for k in contacts] + [(k, False) for k in others]:
        row = rows.get(contact.id)
        if row is not None and row.changed_at >= event.occurred_at:
            stale += 1
            continue
        if row is None:
            row = PipedriveDeal(deal_id=event.entity_id, contact_id=contact.id, status="open", counted=Decimal(0))
            row.value = Decimal(0)
            ctx.session.add(row)
            rows[contact.id] = row
        was_won = row.status == "won"
        row.status = status if linked else "unlinked"
        row.title, row.value, row.currency = (title or row.title), value, currency
        row.lost_reason = reason[:500] if status == "lost" and reason else None
        row.changed_at = event.occurred_at
        counted = Decimal(0)
        if row.status == "won":
            if contact.past_business_currency is None and contact.past_business == 0 and currency:
                contact.past_business_currency = currency
            if currency == contact.past_business_currency or (currency is None and not contact.past_business_currency):
                counted = value
        contact.past_business = max(Decimal(0), min(MAX_AMOUNT, contact.past_business + counted - row.counted))
        row.counted = counted
        if row.status == "won" and not was_won:
            won_for.append(contact)
        contact.pipedrive_changed_at = event.occurred_at
        contact.pipedrive_change = f"deal {row.status}"[:200]
        changed.append(contact.id)
    told: set[int] = set()
    for contact in won_for:
        if contact.owner_id in told:  # one message per owner, however many of their contacts the deal links
            continue
        told.add(contact.owner_id)
        with_whom = contact.organisation or contact.name
        ctx.session.add(
            PipedriveNote(
                user_id=contact.owner_id,
                contact_id=contact.id,
                text=f"Deal won with {with_whom}: {money(value, currency)}"
                + (f" ({title})" if title and title != with_whom else ""),
                created_at=ctx.clock.now(),
            )
        )
    if not changed:
        return PipedriveEventApplied("stale", "older than a change already applied to the deal")
    return PipedriveEventApplied("applied", f"deal {status}", tuple(changed))


def _done_at(data: dict, fallback: datetime) -> datetime:
    value = data.get("marked_as_done_time")
    if isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "T"))
        except ValueError:
            return fallback
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=fallback.tzinfo)
    return fallback


async def activity_changed(ctx: Context, event: PipedriveEvent) -> PipedriveEventApplied:
    data = _data(event.payload, "data")
    if event.action == "delete":
        return PipedriveEventApplied("ignored", "an activity deleted: its touch, if any, stays")
    if data.get("done") is not True:
        return PipedriveEventApplied("ignored", "an activity not done")
    pre = preload.current()
    if pre is not None and event.entity_id in pre.activity_ids:
        if event.entity_id in pre.held_activities:
            return PipedriveEventApplied("ignored", "an activity the bank holds already")
    elif await ctx.session.scalar(
        select(Activity.id).where(Activity.pipedrive_activity_id == event.entity_id).limit(1)
    ):
        return PipedriveEventApplied("ignored", "an activity the bank holds already")
    person_id = _int(data.get("person_id"))
    if person_id is None:
        participants = data.get("participants")
        primary = [p for p in participants or () if isinstance(p, dict) and p.get("primary")]
        person_id = _int(primary[0].get("person_id")) if isinstance(participants, list) and primary else None
    contacts = await _contacts_for(ctx, person_id, None)
    if not contacts:
        return PipedriveEventApplied("ignored", "unknown person")
    if _data(event.payload, "meta").get("change_source") == "api" and await _sync_in_flight(ctx, contacts):
        return PipedriveEventApplied("ignored", "an activity the sync is sending there")
    # Locked the contacts: the same activity applied by another worker meanwhile is seen now.
    preloaded = pre is not None and event.entity_id in pre.activity_ids and person_id in pre.person_ids
    if not preloaded and await ctx.session.scalar(
        select(Activity.id).where(Activity.pipedrive_activity_id == event.entity_id).limit(1)
    ):
        return PipedriveEventApplied("ignored", "an activity the bank holds already")
    kind = str(data.get("type") or "").strip().lower() or "activity"
    at = min(_done_at(data, event.occurred_at), ctx.clock.now())
    subject = data.get("subject") if isinstance(data.get("subject"), str) else None
    for contact in contacts:
        ctx.session.add(
            Activity(
                contact_id=contact.id,
                user_id=contact.owner_id,
                kind=PIPEDRIVE_TOUCH,
                channel=(PIPEDRIVE_METHOD_PREFIX + kind)[:40],
                note=subject[:300] if subject else None,
                occurred_at=at,
                created_at=ctx.clock.now(),
                pipedrive_activity_id=event.entity_id,
                previous_contacted_at=contact.last_contacted_at,
            )
        )
        if contact.last_contacted_at is None or contact.last_contacted_at < at:
            contact.last_contacted_at = at
        if preloaded and pre is not None and contact.id not in pre.open_follow_ups:
            continue
        await ctx.session.execute(
            update(FollowUp)
            .where(FollowUp.contact_id == contact.id, FollowUp.status == "open", FollowUp.due_at <= at)
            .values(status="done", completed_at=ctx.clock.now())
        )
    if pre is not None:
        pre.held_activities.add(event.entity_id)
    return PipedriveEventApplied("applied", f"{kind} done: a touch", tuple(k.id for k in contacts))


async def _sync_in_flight(ctx: Context, contacts: list[Contact]) -> bool:
    """Whether one of the contacts' activities is being sent to Pipedrive (its id there not recorded yet): an
    activity made through the API meanwhile is taken for that one."""
    return bool(
        await ctx.session.scalar(
            select(Activity.id)
            .where(
                Activity.contact_id.in_([k.id for k in contacts]),
                Activity.sync_state == "pending",
                Activity.pipedrive_activity_id.is_(None),
            )
            .limit(1)
        )
    )
