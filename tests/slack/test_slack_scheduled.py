"""The scheduler's digest through the real Slack notifier, to the fake Web API over HTTP."""

from bot.notify import ChatCourier
from core.deliveries.commands import ListDeliveryProblems
from core.users.commands import LinkChatIdentity
from scheduler.dispatch import Dispatcher

ANA, DM = "U0ANA", "DU0ANA"


async def test_the_morning_digest_is_posted_once_in_the_users_dm(core, service, fake, make):
    fake.add_user(ANA, "ana@example.com")
    ana = await make.user("Ana Silva", email="ana@example.com")
    await make.contact(ana, "Bob Stone", organisation="Acme")
    await core.execute(LinkChatIdentity("ana@example.com", "slack", ANA, dm_channel=DM))
    dispatcher = Dispatcher(core, ChatCourier(core, {"slack": service.notifier}), limits={})
    assert (await dispatcher.tick())["sent"] == 1  # Tuesday 09:00 in London: within the grace window
    await dispatcher.tick()
    [posted] = fake.called("chat.postMessage")
    assert posted["channel"] == DM
    assert "Good morning Ana" in str(posted["blocks"]) and "Bob Stone" in str(posted["blocks"])


async def test_a_deactivated_account_is_recorded_as_unreachable(core, service, fake, make):
    fake.add_user(ANA, "ana@example.com")
    ana = await make.user("Ana Silva", email="ana@example.com")
    await make.contact(ana, "Bob Stone")
    await core.execute(LinkChatIdentity("ana@example.com", "slack", ANA, dm_channel=DM))
    fake.fail("chat.postMessage", error="account_inactive")
    assert (await Dispatcher(core, ChatCourier(core, {"slack": service.notifier}), limits={}).tick())["failed"] == 1
    [problem] = await core.execute(ListDeliveryProblems())
    assert (problem.user_id, problem.error) == (ana.id, "account_inactive")
