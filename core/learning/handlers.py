"""Learning: refit the method rates (nightly from the scheduler, or `pipedriven learn`), show them, advise.

The team's history is pooled for the rates (a rate is a count over many contacts), and a segment seen on fewer
than MIN_SEGMENT_CONTACTS (core.learning.rates) contacts is not kept, so no rate stands for one person; the ranking only ever shows a
user their own contacts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text

from core.context import Context, contact_view, load_contact
from core.errors import InvalidInput
from core.learning import model, rates
from core.learning.commands import (
    RATE_DIMENSIONS,
    AdviseMethod,
    MethodAdvice,
    MethodRateRow,
    MethodRatesTable,
    RefitMethodRates,
    RefitResult,
    ShowMethodRates,
)
from core.learning.reasons import segment_name
from core.registry import handles

NIGHTLY_HOUR_UTC = 2
TABLE_ROWS = 24  # rows a chat message shows readably (and Slack's 50 blocks and Telegram's 4,096 characters allow)
_LOCK = "SELECT pg_advisory_xact_lock(hashtext('pipedriven.method_fit'))"


def tonight(now: datetime) -> datetime:
    """When the current night's fit falls due: NIGHTLY_HOUR_UTC today, or yesterday before that hour."""
    start = now.replace(hour=NIGHTLY_HOUR_UTC, minute=0, second=0, microsecond=0)
    return start if now >= start else start - timedelta(days=1)


@handles
async def refit_method_rates(cmd: RefitMethodRates, ctx: Context) -> RefitResult:
    await ctx.session.execute(text(_LOCK))  # one fit at a time, whichever process asks
    now = ctx.clock.now()
    if cmd.nightly:
        latest = await rates.latest_fit(ctx.session)
        if latest is not None and latest.fitted_at >= tonight(now):
            return RefitResult(None)
    summary = await rates.refit(ctx.session, now=now, kind="nightly" if cmd.nightly else "on_demand")
    return RefitResult(summary)


@handles
async def show_method_rates(cmd: ShowMethodRates, ctx: Context) -> MethodRatesTable:
    """Rates are team-wide numbers, visible to every user like the stats."""
    if cmd.dimension is not None and cmd.dimension not in RATE_DIMENSIONS:
        raise InvalidInput(f"Method rates are by {', '.join(RATE_DIMENSIONS[:-1])} or {RATE_DIMENSIONS[-1]}.")
    fit = await rates.latest_fit(ctx.session)
    if fit is None:
        return MethodRatesTable(None, cmd.dimension, ())
    stored = await rates.current_rates(ctx.session, fit.id)
    wanted = cmd.dimension or model.ALL
    segment_outreach: dict[str, int] = {}
    for r in stored:
        if r.dimension == wanted:
            segment_outreach[r.value] = segment_outreach.get(r.value, 0) + r.outreach
    chosen = sorted(
        (r for r in stored if r.dimension == wanted),
        key=lambda r: (-segment_outreach[r.value], r.label, -r.rate, r.method),
    )
    rows = tuple(
        MethodRateRow(segment_name(r.dimension, r.label), r.method, r.outreach, r.meetings, r.rate, r.low, r.high)
        for r in chosen
    )
    return MethodRatesTable(
        rates.summary_of(fit, len(stored)), cmd.dimension, rows[:TABLE_ROWS], max(0, len(rows) - TABLE_ROWS)
    )


@handles
async def advise_method(cmd: AdviseMethod, ctx: Context) -> MethodAdvice:
    contact = await load_contact(ctx, cmd.actor, cmd.contact)
    advice = await rates.advise(ctx.session, contact.id)
    return MethodAdvice(contact_view(contact), advice.method, advice.chance, advice.reason)
