"""Housekeeping: the bookkeeping tables that grow with every tap and every message, trimmed (`PruneHistory`).

The scheduler runs it every hour (scheduler.service); `pipedriven db prune` runs it by hand. Each run removes
at most `PRUNE_BATCH` rows of each table, so a backlog drains over a few runs without a long transaction.

- `processed_requests`: an idempotency key only has to outlive the platforms' redeliveries of one request
  (Slack retries within minutes; Telegram keeps an unconfirmed update for 24 hours). Kept 7 days.
- `deliveries`: a finished one (sent, empty, skipped, failed) is kept 90 days, then goes unless it still stands
  between a user and a repeat: the claims look back without limit for a follow-up still open at that due moment
  (a nudge), for a plan still waiting on that step (a step nudge), and for a digest that already led with a
  step still waiting. Those rows stay for as long as the follow-up or the step does. A digest claim looks back
  two local days only, so an old digest row guards nothing else. Unfinished rows (claimed, retry) never go.
- `interaction_drafts`: a preview never confirmed nor cancelled goes after a day (core.outreach DRAFT_TTL).
- `activity_rollup_changes`: the changes of activities recorded since the last run are folded into the stats
  rollups (migration 0023; core.stats reads both).
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from sqlalchemy import CursorResult, text

from core.cadences.plans import ACTIVE_PLANS_SQL
from core.context import Context
from core.housekeeping.commands import PrunedHistory, PruneHistory
from core.outreach.handlers import DRAFT_TTL
from core.registry import handles

PROCESSED_REQUEST_RETENTION = timedelta(days=7)
DELIVERY_RETENTION = timedelta(days=90)
PRUNE_BATCH = 10_000

_PRUNE_REQUESTS = text("""
DELETE FROM processed_requests WHERE key IN (
    SELECT key FROM processed_requests WHERE created_at < :before LIMIT :batch)
""")

_PRUNE_DRAFTS = text("""
DELETE FROM interaction_drafts WHERE id IN (
    SELECT id FROM interaction_drafts WHERE created_at < :before LIMIT :batch)
""")

_PRUNE_DELIVERIES = text(f"""
DELETE FROM deliveries WHERE id IN (
    SELECT d.id FROM deliveries d
     WHERE d.status IN ('sent', 'empty', 'skipped', 'failed') AND d.created_at < :before
       AND NOT (d.kind = 'nudge' AND EXISTS (
                SELECT 1 FROM follow_ups f
                 WHERE f.id = d.follow_up_id AND f.status = 'open' AND f.due_at = d.due_at))
       AND NOT (d.kind = 'step' AND EXISTS (
                SELECT 1 FROM contact_plans p
                 WHERE p.id = d.plan_id AND p.status IN ({ACTIVE_PLANS_SQL}) AND p.step_due_at = d.due_at))
       AND NOT (d.kind = 'digest' AND EXISTS (
                SELECT 1 FROM contact_plans p
                 WHERE p.user_id = d.user_id AND p.status IN ({ACTIVE_PLANS_SQL}) AND p.step_due_at <= d.due_at))
     LIMIT :batch)
""")


@handles
async def prune_history(cmd: PruneHistory, ctx: Context) -> PrunedHistory:
    now = ctx.clock.now()
    requests = await ctx.session.execute(
        _PRUNE_REQUESTS, {"before": now - PROCESSED_REQUEST_RETENTION, "batch": PRUNE_BATCH}
    )
    deliveries = await ctx.session.execute(
        _PRUNE_DELIVERIES, {"before": now - DELIVERY_RETENTION, "batch": PRUNE_BATCH}
    )
    drafts = await ctx.session.execute(_PRUNE_DRAFTS, {"before": now - DRAFT_TTL, "batch": PRUNE_BATCH})
    folded = await ctx.session.scalar(text("SELECT activity_rollups_fold()"))
    return PrunedHistory(
        folded=folded or 0,
        requests=cast(CursorResult, requests).rowcount,
        deliveries=cast(CursorResult, deliveries).rowcount,
        drafts=cast(CursorResult, drafts).rowcount,
    )
