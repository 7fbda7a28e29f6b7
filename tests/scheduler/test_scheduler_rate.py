"""Pacing: the moments the limiter books for each message, on explicit times (nothing sleeps).

`send_times` plays the senders of one event loop in time order, as `Pacer.wait` would: a message whose chat
is busy comes back when the chat is free.
"""

import heapq

import pytest

from scheduler.rate import DEFAULT_LIMITS, Pacer, PlatformLimits, Rate


def send_times(pacer: Pacer, chats: list[str], now: float = 0.0) -> list[float]:
    waiting = [(now, n, chat) for n, chat in enumerate(chats)]
    heapq.heapify(waiting)
    moments: list[float] = [0.0] * len(chats)
    while waiting:
        moment, n, chat = heapq.heappop(waiting)
        booked, at = pacer.try_reserve(chat, moment)
        if booked:
            moments[n] = at
        else:
            heapq.heappush(waiting, (at, n, chat))
    return moments


def most_in_any_second(moments: list[float]) -> int:
    """The largest number of messages in any sliding second (how the fake platform counts); a micro-second
    off for the rounding of summed float intervals."""
    moments = sorted(moments)
    return max(sum(1 for m in moments if start <= m < start + 1.0 - 1e-6) for start in moments)


def test_telegram_sends_thirty_a_second_spread_evenly():
    moments = send_times(Pacer(DEFAULT_LIMITS["telegram"]), [f"chat{n}" for n in range(300)])
    assert moments[0] == 0.0
    assert moments[-1] == pytest.approx(299 / 30)  # 300 messages to different chats take ten seconds
    assert most_in_any_second(moments) == 30


def test_telegram_sends_one_a_second_to_a_chat_without_holding_up_the_others():
    moments = send_times(Pacer(DEFAULT_LIMITS["telegram"]), ["ana", "ana", "ana", "bo"])
    assert moments == pytest.approx([0.0, 1.0, 2.0, 1 / 30])


def test_a_busy_chat_among_many_keeps_both_limits():
    chats = ["ana"] * 3 + [f"chat{n}" for n in range(57)]
    moments = send_times(Pacer(DEFAULT_LIMITS["telegram"]), chats)
    assert most_in_any_second(moments) == 30
    ana = moments[:3]
    assert ana[1] - ana[0] >= 1.0 and ana[2] - ana[1] >= 1.0
    assert max(moments[3:]) == pytest.approx(57 / 30), "the other chats are not held up by ana's"


def test_slack_allows_a_short_burst_per_channel_then_one_a_second():
    pacer = Pacer(PlatformLimits(per_chat=DEFAULT_LIMITS["slack"].per_chat))
    assert send_times(pacer, ["D1"] * 5) == [0.0, 0.0, 0.0, 1.0, 2.0]


def test_slack_workspace_pace_allows_bursts_of_ten_then_five_a_second():
    moments = send_times(Pacer(PlatformLimits(overall=DEFAULT_LIMITS["slack"].overall)),
                         [f"D{n}" for n in range(20)])
    assert moments[:10] == [0.0] * 10
    assert moments[10:] == pytest.approx([0.2 * n for n in range(1, 11)])


def test_an_idle_platform_sends_at_once_again():
    pacer = Pacer(DEFAULT_LIMITS["telegram"])
    send_times(pacer, [f"chat{n}" for n in range(30)])
    assert pacer.try_reserve("late", now=5.0) == (True, 5.0)


def test_a_hold_after_too_many_requests_delays_every_chat():
    pacer = Pacer(DEFAULT_LIMITS["telegram"])
    pacer.try_reserve("ana", now=0.0)
    pacer.hold(3.0, now=0.5)
    assert pacer.try_reserve("bo", now=0.5) == (True, 3.5)
    assert pacer.try_reserve("cy", now=4.0) == (True, 4.0)


def test_a_platform_without_limits_is_not_paced():
    pacer = Pacer(PlatformLimits())
    pacer.hold(30.0, now=0.0)
    assert not pacer.paced
    assert send_times(pacer, ["ana"] * 100, now=1.0) == [1.0] * 100


def test_idle_chats_are_forgotten_without_changing_the_pace(monkeypatch):
    monkeypatch.setattr(Pacer, "MAX_IDLE_CHATS", 10)
    pacer = Pacer(PlatformLimits(per_chat=Rate(1, 1.0)))
    for n in range(10):
        pacer.try_reserve(f"chat{n}", now=0.0)
    assert pacer.try_reserve("chat0", now=1.0) == (True, 1.0)  # chat0 is busy until 2.0, the others idle
    pacer.try_reserve("new", now=1.5)
    assert len(pacer._chats) == 2
    assert pacer.try_reserve("chat0", now=1.5) == (False, 2.0)


async def test_waiting_for_an_unpaced_platform_returns_at_once():
    await Pacer(None).wait("ana")
