"""Fault drill: the platforms deliver the same thing more than once. Slack retries an interaction it did not see
answered in time (the same body again, with X-Slack-Retry-Num); Telegram posts an update again when our 200 was
lost. The copies arrive at once, over HTTP, to the running apps: one activity, one answer."""

import asyncio

import pytest

from core.models import Activity
from tests.drills.conftest import ANA_DM, ANA_SLACK

pytestmark = pytest.mark.drill


async def test_the_same_slack_interaction_delivered_three_times_logs_once(slack_app, count):
    client = slack_app.client
    payload = client.tap_payload(ANA_SLACK, ANA_DM, slack_app.digest_ts, "LinkedIn ✓", contact="Bob Stone")
    retries = [
        {},
        {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
        {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"},
    ]
    sent = await asyncio.gather(*(client.interact(payload, headers=headers) for headers in retries))
    assert [s.status for s in sent] == [200, 200, 200]
    assert await count(Activity) == 1
    assert len(slack_app.fake.called("chat.update")) == 1  # the row is updated once
    assert slack_app.fake.called("chat.postMessage")[1:] == []  # and nothing else is said


async def test_the_same_telegram_update_posted_twice_logs_once(telegram_app, count):
    fake = telegram_app.fake
    update = fake.tap_update(telegram_app.user, telegram_app.digest, fake.button(telegram_app.digest, "LinkedIn"))
    mark = len(fake.calls)
    assert await asyncio.gather(telegram_app.post(update), telegram_app.post(update)) == [200, 200]
    assert await count(Activity) == 1
    assert len(fake.sent("editMessageText", since=mark)) == 1
    assert fake.sent("sendMessage", since=mark) == []  # no error message, no second answer
