"""The one rate limiter behind Slack's and Telegram's pace and Pipedrive's windows, on virtual time."""

from __future__ import annotations

import dataclasses
import json

import pytest

from core.ratelimit import ANSWER_POLL_SECONDS, Limit, Limiter, MemoryStore, Places
from tests.virtual_time import VirtualTime


def limiter_on(vt: VirtualTime, limits: dict, **options) -> Limiter:
    return Limiter(limits, clock=vt, sleep=vt.sleep, **options)


async def go_at(vt: VirtualTime, limiter: Limiter, messages: list[tuple[float, tuple]]) -> list[float]:
    """Each (start, wants) message acquired from its start, side by side; the moment each went."""

    async def send(start: float, wants: tuple) -> float:
        await vt.sleep(start - vt.now)
        await limiter.acquire(*wants)
        return vt.now

    return await vt.run(*(send(start, wants) for start, wants in messages))


async def test_a_rate_lets_its_burst_through_then_keeps_an_even_pace():
    vt = VirtualTime()
    limiter = limiter_on(vt, {"all": Limit.rate(4, 1.0, burst=3)})
    moments = await go_at(vt, limiter, [(0.0, ("all",))] * 8)
    assert moments == pytest.approx([0, 0, 0, 0.25, 0.5, 0.75, 1.0, 1.25])


async def test_a_window_lets_no_more_than_its_count_arrive_within_any_window():
    vt = VirtualTime()
    limiter = limiter_on(vt, {"all": Limit.window(3, 2.0)})
    arrivals = []

    async def request() -> None:
        ticket = await limiter.acquire("all")
        await vt.sleep(0.25)
        arrivals.append(vt.now)  # the server counts it somewhere between the sending and the answer
        await vt.sleep(0.25)
        await limiter.done(ticket)

    await vt.run(*(request() for _ in range(10)))
    assert arrivals[:3] == [0.25] * 3  # the first three at once
    assert max(sum(1 for a in arrivals if start <= a < start + 2.0) for start in arrivals) == 3
    assert arrivals[3] == pytest.approx(0.5 + 2.0 + 0.25)  # a place comes back two seconds after its answer


async def test_a_window_full_of_requests_awaiting_their_answers_is_looked_at_again_shortly():
    vt = VirtualTime(now=10.0)
    limiter = limiter_on(vt, {"all": Limit.window(1, 2.0)})
    ticket = await limiter.acquire("all")
    assert await limiter.free_at("all") == 10.0 + ANSWER_POLL_SECONDS
    await limiter.done(ticket)
    assert await limiter.free_at("all") == 12.0


async def test_each_key_is_counted_apart_and_a_busy_one_holds_up_no_other():
    vt = VirtualTime()
    limiter = limiter_on(vt, {"chat": Limit.rate(1, 1.0), "all": Limit.rate(10, 1.0)})
    moments = await go_at(
        vt, limiter, [(0.0, (("chat", "ana"), "all")), (0.0, (("chat", "ana"), "all")), (0.0, (("chat", "bo"), "all"))]
    )
    assert moments == pytest.approx([0.0, 1.0, 0.1])


async def test_turns_at_the_shared_limit_go_in_the_order_asked():
    vt = VirtualTime()
    limiter = limiter_on(vt, {"chat": Limit.rate(1, 1.0), "all": Limit.rate(1, 1.0)})
    moments = await go_at(vt, limiter, [(n / 10, (("chat", f"c{n}"), "all")) for n in range(5)])
    assert moments == [0.0, 1.0, 2.0, 3.0, 4.0]


async def test_a_hold_keeps_every_message_back_until_it_ends():
    vt = VirtualTime()
    limiter = limiter_on(vt, {"chat": Limit.rate(1, 1.0), "all": Limit.rate(10, 1.0)})
    vt.now = 0.5
    await limiter.hold(3.0)
    await limiter.hold(1.0)  # a shorter hold ends none sooner
    moments = await go_at(vt, limiter, [(0.5, (("chat", "ana"), "all")), (0.5, ()), (0.5, ("all",))])
    assert moments == pytest.approx([3.5, 3.5, 3.6])


async def test_a_limit_changed_in_place_counts_the_places_already_taken():
    vt = VirtualTime()
    limiter = limiter_on(vt, {"all": Limit.window(5, 2.0), "open": None})
    for _ in range(5):
        await limiter.done(await limiter.acquire("all"))
    limiter.limits["all"] = Limit.window(2, 2.0)  # the server says its limit is lower
    assert await limiter.free_at("all") == 2.0
    limiter.limits["all"] = Limit.window(10, 2.0)
    assert await limiter.free_at("all") == 0.0
    assert await limiter.free_at("open") == 0.0  # a limit of None limits nothing


async def test_the_memory_store_keeps_only_keys_that_are_busy():
    vt = VirtualTime()
    store = MemoryStore(max_keys=3)
    limiter = limiter_on(vt, {"chat": Limit.rate(1, 1.0)}, store=store)
    for chat in ("a", "b", "c"):
        await limiter.acquire(("chat", chat))
    assert len(store) == 3
    vt.now = 1.0  # their places came back: a, b and c are as good as new
    await limiter.acquire(("chat", "d"))
    assert [key[-1] for key in store] == ["d"]
    assert await limiter.free_at(("chat", "d")) == 2.0 and await limiter.free_at(("chat", "a")) == 1.0


class RowStore:
    """A store that keeps each key's state as text, as a database row would, and lends it out for one step."""

    def __init__(self) -> None:
        self.rows: dict[str, str] = {}

    async def update(self, keys, now, step):
        names = [json.dumps(key) for key in keys]
        states = [Places(**json.loads(self.rows[name])) if name in self.rows else Places() for name in names]
        result = step(states)
        for name, state in zip(names, states):
            self.rows[name] = json.dumps(dataclasses.asdict(state))
        return result


async def test_limiters_sharing_a_store_keep_one_pace_as_several_processes_would():
    vt = VirtualTime()
    store = RowStore()
    first, second = (limiter_on(vt, {"all": Limit.rate(2, 1.0)}, name="telegram", store=store) for _ in range(2))

    async def send(limiter: Limiter) -> float:
        await limiter.acquire("all")
        return vt.now

    moments = await vt.run(*(send(limiter) for limiter in (first, second, first, second)))
    assert sorted(moments) == [0.0, 0.5, 1.0, 1.5]  # turns go in order within a process, not across them
    assert sorted(store.rows) == ['["telegram", "all", null]', '["telegram"]']
    await second.hold(5.0)
    assert await first.free_at() == vt.now + 5.0
