"""Two `pipedriven run` processes on one PostgreSQL server from the system's packages: the digests of many users
due at once go out once each, and the two processes together keep within Slack's and Telegram's limits."""

from __future__ import annotations

import pytest

from fakes.limited import SLACK_WORKSPACE_PER_MINUTE, TELEGRAM_PER_CHAT_PER_SECOND, TELEGRAM_PER_SECOND
from fakes.scaleout import measure

pytestmark = pytest.mark.process

USERS = 150


async def test_two_processes_deliver_each_digest_once_within_the_platforms_limits(system_database_url):
    result = await measure(system_database_url, USERS, processes=2)
    assert result["deliveries"] == {"sent": 2 * USERS}
    slack, telegram = result["slack"], result["telegram"]
    assert slack["delivered"] == telegram["delivered"] == USERS
    assert slack["duplicates"] == telegram["duplicates"] == 0
    assert slack["429"] == telegram["429"] == 0
    assert telegram["busiest_second"] <= TELEGRAM_PER_SECOND
    assert telegram["busiest_chat_second"] <= TELEGRAM_PER_CHAT_PER_SECOND
    assert slack["busiest_minute"] <= SLACK_WORKSPACE_PER_MINUTE
    assert slack["busiest_chat_second"] <= 3  # a channel's burst
