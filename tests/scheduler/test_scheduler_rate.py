"""Pacing: the moments the pacer lets each message go, on virtual time (nothing sleeps).

`send_times` runs one sender per message side by side, each calling `Pacer.wait` from its start moment, as the
dispatcher's senders do, and notes the moment each one was let through.
"""

import time

import pytest

from core.ratelimit import Limit, MemoryStore
from scheduler.rate import CHAT, DEFAULT_LIMITS, PLATFORM, Pacer, PlatformLimits
from tests.virtual_time import VirtualTime


def pacer_on(vt: VirtualTime, limits: PlatformLimits | None, **options) -> Pacer:
    return Pacer(limits, clock=vt, sleep=vt.sleep, **options)


async def send_times(vt: VirtualTime, pacer: Pacer, chats: list[str]) -> list[float]:
    start = vt.now

    async def send(chat: str) -> float:
        await vt.sleep(start - vt.now)
        await pacer.wait(chat)
        return vt.now

    return await vt.run(*(send(chat) for chat in chats))


def most_in_any_second(moments: list[float]) -> int:
    """The largest number of messages in any sliding second (how the fake platform counts); a micro-second
    off for the rounding of summed float intervals."""
    moments = sorted(moments)
    return max(sum(1 for m in moments if start <= m < start + 1.0 - 1e-6) for start in moments)


async def test_telegram_sends_twenty_five_a_second_spread_evenly_under_its_thirty():
    vt = VirtualTime()
    moments = await send_times(vt, pacer_on(vt, DEFAULT_LIMITS["telegram"]), [f"chat{n}" for n in range(300)])
    assert moments[0] == 0.0
    assert moments[-1] == pytest.approx(299 / 25)  # 300 messages to different chats take twelve seconds
    assert most_in_any_second(moments) == 25


async def test_telegram_sends_one_a_second_to_a_chat_without_holding_up_the_others():
    vt = VirtualTime()
    moments = await send_times(vt, pacer_on(vt, DEFAULT_LIMITS["telegram"]), ["ana", "ana", "ana", "bo"])
    assert moments == pytest.approx([0.0, 1.0, 2.0, 1 / 25])


async def test_a_busy_chat_among_many_keeps_both_limits():
    vt = VirtualTime()
    chats = ["ana"] * 3 + [f"chat{n}" for n in range(57)]
    moments = await send_times(vt, pacer_on(vt, DEFAULT_LIMITS["telegram"]), chats)
    assert most_in_any_second(moments) == 25
    ana = moments[:3]
    assert ana[1] - ana[0] >= 1.0 and ana[2] - ana[1] >= 1.0
    assert max(moments[3:]) == pytest.approx(57 / 25), "the other chats are not held up by ana's"


async def test_slack_allows_a_short_burst_per_channel_then_one_a_second():
    vt = VirtualTime()
    pacer = pacer_on(vt, PlatformLimits(per_chat=DEFAULT_LIMITS["slack"].per_chat))
    assert await send_times(vt, pacer, ["D1"] * 5) == [0.0, 0.0, 0.0, 1.0, 2.0]


async def test_slack_workspace_pace_allows_bursts_of_ten_then_290_a_minute():
    vt = VirtualTime()
    moments = await send_times(
        vt, pacer_on(vt, PlatformLimits(overall=DEFAULT_LIMITS["slack"].overall)), [f"D{n}" for n in range(400)]
    )
    assert moments[:10] == [0.0] * 10
    assert moments[10:20] == pytest.approx([60 / 290 * n for n in range(1, 11)])
    assert max(sum(1 for m in moments if start <= m < start + 60 - 1e-6) for start in moments) == 299


async def test_an_idle_platform_sends_at_once_again():
    vt = VirtualTime()
    pacer = pacer_on(vt, DEFAULT_LIMITS["telegram"])
    await send_times(vt, pacer, [f"chat{n}" for n in range(30)])
    vt.now = 5.0
    assert await pacer.limiter.free_at(PLATFORM) == await pacer.limiter.free_at((CHAT, "late")) == 5.0


async def test_a_hold_after_too_many_requests_delays_every_chat():
    vt = VirtualTime()
    pacer = pacer_on(vt, DEFAULT_LIMITS["telegram"])
    await pacer.wait("ana")
    vt.now = 0.5
    await pacer.hold(3.0)
    assert await send_times(vt, pacer, ["bo", "cy"]) == pytest.approx([3.5, 3.5 + 1 / 25])


async def test_a_platform_without_limits_is_not_paced():
    vt = VirtualTime(now=1.0)
    pacer = pacer_on(vt, PlatformLimits())
    await pacer.hold(30.0)
    assert not pacer.paced
    assert await send_times(vt, pacer, ["ana"] * 100) == [1.0] * 100


async def test_idle_chats_are_forgotten_without_changing_the_pace():
    vt = VirtualTime()
    store = MemoryStore(max_keys=10)
    pacer = pacer_on(vt, PlatformLimits(per_chat=Limit.rate(1, 1.0)), store=store)
    for n in range(10):
        await pacer.wait(f"chat{n}")
    vt.now = 1.0
    await pacer.wait("chat0")  # chat0 is busy until 2.0, the others are idle from 1.0
    vt.now = 1.5
    assert await pacer.limiter.free_at((CHAT, "new")) == 1.5
    assert [key[-1] for key in store] == ["chat0"]  # a chat as good as new is not kept either
    assert await pacer.limiter.free_at((CHAT, "chat0")) == 2.0


async def test_waiting_for_an_unpaced_platform_returns_at_once():
    await Pacer(None).wait("ana")


async def test_waiting_for_a_free_chat_and_platform_returns_at_once():
    pacer = Pacer(DEFAULT_LIMITS["telegram"])
    await pacer.wait("ana")
    assert await pacer.limiter.free_at((CHAT, "ana")) > time.monotonic()
