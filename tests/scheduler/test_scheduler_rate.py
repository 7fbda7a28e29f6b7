"""Pacing: the moments the limiter lets each message go, on explicit times (nothing sleeps).

`send_times` plays the senders of one event loop in time order, as `Pacer.wait` does: a message whose chat
is busy comes back when the chat is free; otherwise it takes its turn and goes when the platform is free.
"""

import asyncio
import heapq

import pytest

from scheduler.rate import DEFAULT_LIMITS, Pacer, PlatformLimits, Rate


def send_times(pacer: Pacer, chats: list[str], now: float = 0.0) -> list[float]:
    waiting = [(now, n, chat) for n, chat in enumerate(chats)]
    heapq.heapify(waiting)
    moments: list[float] = [0.0] * len(chats)
    while waiting:
        moment, n, chat = heapq.heappop(waiting)
        if (free := pacer.chat_free_at(chat, moment)) > moment:
            heapq.heappush(waiting, (free, n, chat))
            continue
        moments[n] = pacer.platform_free_at(moment)
        pacer.book(chat, moments[n])
    return moments


def most_in_any_second(moments: list[float]) -> int:
    """The largest number of messages in any sliding second (how the fake platform counts); a micro-second
    off for the rounding of summed float intervals."""
    moments = sorted(moments)
    return max(sum(1 for m in moments if start <= m < start + 1.0 - 1e-6) for start in moments)


def test_telegram_sends_twenty_five_a_second_spread_evenly_under_its_thirty():
    moments = send_times(Pacer(DEFAULT_LIMITS["telegram"]), [f"chat{n}" for n in range(300)])
    assert moments[0] == 0.0
    assert moments[-1] == pytest.approx(299 / 25)  # 300 messages to different chats take twelve seconds
    assert most_in_any_second(moments) == 25


def test_telegram_sends_one_a_second_to_a_chat_without_holding_up_the_others():
    moments = send_times(Pacer(DEFAULT_LIMITS["telegram"]), ["ana", "ana", "ana", "bo"])
    assert moments == pytest.approx([0.0, 1.0, 2.0, 1 / 25])


def test_a_busy_chat_among_many_keeps_both_limits():
    chats = ["ana"] * 3 + [f"chat{n}" for n in range(57)]
    moments = send_times(Pacer(DEFAULT_LIMITS["telegram"]), chats)
    assert most_in_any_second(moments) == 25
    ana = moments[:3]
    assert ana[1] - ana[0] >= 1.0 and ana[2] - ana[1] >= 1.0
    assert max(moments[3:]) == pytest.approx(57 / 25), "the other chats are not held up by ana's"


def test_slack_allows_a_short_burst_per_channel_then_one_a_second():
    pacer = Pacer(PlatformLimits(per_chat=DEFAULT_LIMITS["slack"].per_chat))
    assert send_times(pacer, ["D1"] * 5) == [0.0, 0.0, 0.0, 1.0, 2.0]


def test_slack_workspace_pace_allows_bursts_of_ten_then_290_a_minute():
    moments = send_times(Pacer(PlatformLimits(overall=DEFAULT_LIMITS["slack"].overall)),
                         [f"D{n}" for n in range(400)])
    assert moments[:10] == [0.0] * 10
    assert moments[10:20] == pytest.approx([60 / 290 * n for n in range(1, 11)])
    assert max(sum(1 for m in moments if start <= m < start + 60 - 1e-6) for start in moments) == 299


def test_an_idle_platform_sends_at_once_again():
    pacer = Pacer(DEFAULT_LIMITS["telegram"])
    send_times(pacer, [f"chat{n}" for n in range(30)])
    assert pacer.platform_free_at(5.0) == pacer.chat_free_at("late", 5.0) == 5.0


def test_a_hold_after_too_many_requests_delays_every_chat():
    pacer = Pacer(DEFAULT_LIMITS["telegram"])
    pacer.book("ana", 0.0)
    pacer.hold(3.0, now=0.5)
    assert send_times(pacer, ["bo", "cy"], now=0.5) == pytest.approx([3.5, 3.5 + 1 / 25])


def test_a_platform_without_limits_is_not_paced():
    pacer = Pacer(PlatformLimits())
    pacer.hold(30.0, now=0.0)
    assert not pacer.paced
    assert send_times(pacer, ["ana"] * 100, now=1.0) == [1.0] * 100


def test_idle_chats_are_forgotten_without_changing_the_pace(monkeypatch):
    monkeypatch.setattr(Pacer, "MAX_IDLE_CHATS", 10)
    pacer = Pacer(PlatformLimits(per_chat=Rate(1, 1.0)))
    for n in range(10):
        pacer.book(f"chat{n}", 0.0)
    pacer.book("chat0", 1.0)  # chat0 is busy until 2.0, the others are idle from 1.0
    assert pacer.chat_free_at("new", 1.5) == 1.5
    assert len(pacer._chats) == 2
    assert pacer.chat_free_at("chat0", 1.5) == 2.0


async def test_waiting_for_an_unpaced_platform_returns_at_once():
    await Pacer(None).wait("ana")


async def test_waiting_for_a_free_chat_and_platform_returns_at_once():
    pacer = Pacer(DEFAULT_LIMITS["telegram"])
    await pacer.wait("ana")
    assert pacer.chat_free_at("ana", asyncio.get_running_loop().time()) > asyncio.get_running_loop().time()
