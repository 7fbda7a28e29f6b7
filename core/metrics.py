"""Prometheus counters of what Pipedriven does, incremented where it happens and served at /metrics (bot/health.py).

Labels are platforms, kinds and outcomes only: never a user, a contact or anything a person typed.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

TAPS = Counter("pipedriven_taps", "Button taps handled", ["platform"])
TAP_SECONDS = Histogram(
    "pipedriven_tap_seconds",
    "Time from a tap reaching the conversation to its reply",
    ["platform"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
MESSAGES_SENT = Counter("pipedriven_messages_sent", "Scheduled messages delivered", ["kind", "platform"])
RATE_LIMITED = Counter("pipedriven_rate_limited", "429 answers met", ["platform"])
WEBHOOK_EVENTS = Counter("pipedriven_webhook_events", "Pipedrive webhook deliveries, by outcome", ["outcome"])
OUTBOX_DEPTH = Gauge("pipedriven_outbox_depth", "Pipedrive syncs waiting or in flight")
OUTBOX_OLDEST_SECONDS = Gauge("pipedriven_outbox_oldest_age_seconds", "Age of the oldest unfinished Pipedrive sync")
