"""Digests over HTTP: a local server speaking Telegram's sendMessage, reached by a plain HTTP notifier."""

import pytest

from bot.notify import ChatCourier
from core.deliveries.commands import ListDeliveryProblems
from fakes.sendmessage import FakeTelegram, HttpTelegramNotifier
from scheduler.dispatch import Dispatcher


@pytest.fixture
async def fake_telegram():
    server = FakeTelegram()
    base_url = await server.start()
    notifier = HttpTelegramNotifier(base_url)
    yield server, notifier
    await notifier.close()
    await server.stop()


async def test_digests_go_over_the_wire_and_a_blocked_chat_is_recorded(core, at, reachable, fake_telegram):
    server, notifier = fake_telegram
    ana = await reachable("Ana", platforms=("telegram",), contacts=2)
    bo = await reachable("Bo", platforms=("telegram",))
    cy = await reachable("Cy", platforms=("telegram",))
    server.blocked.add(f"telegram-{cy.id}")
    at("2026-11-24 08:30")
    outcomes = await Dispatcher(core, ChatCourier(core, {"telegram": notifier}), limits={}).tick()
    assert (outcomes["sent"], outcomes["failed"]) == (2, 1)
    by_chat = {message["chat_id"]: message for message in server.delivered}
    assert set(by_chat) == {f"telegram-{ana.id}", f"telegram-{bo.id}"}
    ana_message = by_chat[f"telegram-{ana.id}"]
    assert ana_message["text"].startswith("☀️ Good morning Ana! Who to contact today:\n\n1. Ana's contact 1")
    first_row = ana_message["reply_markup"]["inline_keyboard"][0]
    assert [button["text"] for button in first_row] == ["LinkedIn ✓", "Email ✓", "Call ✓"]
    assert first_row[0]["callback_data"].startswith("log:") and first_row[0]["callback_data"].endswith(":linkedin")
    [problem] = await core.execute(ListDeliveryProblems())
    assert (problem.user_id, problem.error) == (cy.id, "Forbidden: bot was blocked by the user")
    assert server.too_many_requests == 0
