"""Deals and done activities come back from Pipedrive (webhooks v2 sent by the fake over real HTTP): a deal won
adds to the contact's past business and tells its owner in the chat; a deal lost shows in its history with the
reason; an activity marked done there is a touch in the bank, counted in stats, unless the product sent it."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.console import ConsoleChat
from bot.console.notifier import ConsoleNotifier
from bot.notify import ChatCourier
from core.inbound.commands import PipedrivePollMarks
from core.models import Activity, Contact, PipedriveDeal, PipedriveEvent
from core.sync.commands import RecordPipedriveIds
from core.users.commands import LinkChatIdentity
from pipedrive.client import company_client
from pipedrive.polling import Poller
from pipedrive.setup import install_webhooks
from pipedrive.webhooks import WebhookService
from scheduler.dispatch import Dispatcher
from tests.pipedrive.test_pipedrive_webhooks import PASSWORD, USER, settled


@pytest.fixture
def pipedrive_settings():
    return {
        "pipedrive_webhook_user": USER,
        "pipedrive_webhook_password": PASSWORD,
        "pipedrive_webhook_port": 0,
        "pipedrive_webhook_listen": "127.0.0.1",
    }


@pytest.fixture
async def receiver(core, settings, fake):
    """`pipedriven run`'s receiver on a free port, with the webhooks installed in the fake as the CLI does."""
    service = WebhookService(core, settings)
    await service.start()
    client = company_client(settings)
    await install_webhooks(client, settings, f"http://127.0.0.1:{service.port}/pipedrive/webhook")
    await client.aclose()
    yield service
    await service.stop()


@pytest.fixture
async def bob(core, make, ana, fake):
    """A contact of Ana's linked to a person (and organisation) in Pipedrive."""
    acme = fake.add_organization("Acme")
    person = fake.add_person("Bob Stone", email="bob@acme.com", org_id=acme["id"])
    contact = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme")
    await core.execute(RecordPipedriveIds(contact.id, org_id=acme["id"], person_id=person["id"]))
    return contact


@pytest.fixture
def chat(core, ana):
    return ConsoleChat(core, ana)


async def contact_of(rows, contact) -> Contact:
    return (await rows(Contact, Contact.id == contact.id))[0]


async def deal_rows(core) -> list[PipedriveDeal]:
    async with core.sessions() as s:
        return list((await s.execute(select(PipedriveDeal))).scalars())


def console_dispatcher(core) -> tuple[Dispatcher, io.StringIO]:
    out = io.StringIO()
    return Dispatcher(core, ChatCourier(core, {"console": ConsoleNotifier(out)}), limits={}), out


# --- deals -----------------------------------------------------------------------------------------------------


async def test_a_deal_won_adds_to_past_business_and_the_owner_is_told_once(
    core, ana, chat, fake, bob, receiver, rows, clock
):
    await core.execute(LinkChatIdentity(ana.email, "console", "ana"))
    deal = fake.add_deal(
        "Acme renewal", value=12000, currency="EUR", person_id=(await contact_of(rows, bob)).pipedrive_person_id
    )
    await fake.change_deal(deal["id"], status="won", at=clock.now() + timedelta(minutes=1))
    [event] = await settled(rows, 1)
    assert (event.status, event.contact_ids) == ("applied", [bob.id])
    contact = await contact_of(rows, bob)
    assert (contact.past_business, contact.past_business_currency) == (Decimal("12000.00"), "EUR")
    out = await chat.send(f"show {bob.email}")
    assert "past business 12,000 EUR" in out
    assert "Deal won Tue 24 Nov 2026: Acme renewal, 12,000 EUR" in out

    dispatcher, told = console_dispatcher(core)
    await dispatcher.tick()
    assert "Deal won with Acme: 12,000 EUR (Acme renewal)" in told.getvalue()
    await dispatcher.tick()
    assert told.getvalue().count("Deal won with Acme") == 1


async def test_a_deal_won_with_an_organisation_counts_for_its_contacts_and_tells_their_owner_once(
    core, ana, make, fake, bob, receiver, rows, clock
):
    await core.execute(LinkChatIdentity(ana.email, "console", "ana"))
    org_id = (await contact_of(rows, bob)).pipedrive_org_id
    carol = await make.contact(ana, "Carol Jones", email="carol@acme.com", organisation="Acme")
    await core.execute(RecordPipedriveIds(carol.id, org_id=org_id))
    deal = fake.add_deal("Framework", value=800, currency="EUR", org_id=org_id)
    await fake.change_deal(deal["id"], status="won", at=clock.now() + timedelta(minutes=1))
    [event] = await settled(rows, 1)
    assert sorted(event.contact_ids) == sorted([bob.id, carol.id])
    assert [k.past_business for k in await rows(Contact)] == [Decimal("800.00"), Decimal("800.00")]
    dispatcher, told = console_dispatcher(core)
    await dispatcher.tick()
    assert told.getvalue().count("Deal won with Acme: 800 EUR") == 1


async def test_a_won_deal_sent_again_or_changed_counts_once_and_lost_later_is_taken_out(
    core, chat, fake, bob, receiver, rows, clock
):
    deal = fake.add_deal(
        "Pilot", value=5000, currency="EUR", person_id=(await contact_of(rows, bob)).pipedrive_person_id
    )
    await fake.change_deal(deal["id"], status="won", at=clock.now() + timedelta(minutes=1))
    await fake.change_deal(deal["id"], status="won", at=clock.now() + timedelta(minutes=1))  # sent again
    await fake.change_deal(deal["id"], title="Pilot phase 1", at=clock.now() + timedelta(minutes=3))
    await fake.change_deal(deal["id"], status="won", at=clock.now() + timedelta(minutes=2))  # older, late
    events = await settled(rows, 3)
    assert [e.status for e in events] == ["applied", "applied", "stale"]
    assert (await contact_of(rows, bob)).past_business == Decimal("5000.00")
    assert [r.counted for r in await deal_rows(core)] == [Decimal("5000.00")]

    await fake.change_deal(deal["id"], status="lost", lost_reason="Budget cut", at=clock.now() + timedelta(minutes=4))
    await settled(rows, 4)
    assert (await contact_of(rows, bob)).past_business == Decimal("0.00")
    out = await chat.send(f"show {bob.email}")
    assert "Deal lost Tue 24 Nov 2026: Pilot phase 1, 5,000 EUR (reason: Budget cut)" in out
    assert "Won in Pipedrive" not in out


async def test_a_deal_lost_shows_in_history_with_its_reason(chat, fake, bob, receiver, rows, clock):
    deal = fake.add_deal("Big bet", value=90000, currency="EUR", org_id=(await contact_of(rows, bob)).pipedrive_org_id)
    await fake.change_deal(deal["id"], status="lost", lost_reason="Went with a competitor", at=clock.now())
    [event] = await settled(rows, 1)
    assert (event.status, event.outcome) == ("applied", "deal lost")
    out = await chat.send(f"show {bob.email}")
    assert "Deal lost Tue 24 Nov 2026: Big bet, 90,000 EUR (reason: Went with a competitor)" in out
    assert (await contact_of(rows, bob)).past_business == 0


async def test_a_deal_won_in_another_currency_is_kept_and_shown_per_currency(
    core, ana, chat, fake, bob, receiver, rows, clock
):
    assert "past business is now" in await chat.send(f"edit {bob.email} past business 2000 GBP")
    deal = fake.add_deal(
        "US branch", value=3000, currency="USD", person_id=(await contact_of(rows, bob)).pipedrive_person_id
    )
    await fake.change_deal(deal["id"], status="won", at=clock.now() + timedelta(minutes=1))
    await settled(rows, 1)
    contact = await contact_of(rows, bob)
    assert (contact.past_business, contact.past_business_currency) == (Decimal("2000.00"), "GBP")
    out = await chat.send(f"show {bob.email}")
    assert "past business 2,000 GBP" in out and "Won in Pipedrive: 3,000 USD" in out


async def test_a_won_deal_deleted_is_taken_out(fake, bob, receiver, rows, clock):
    deal = fake.add_deal(
        "Short-lived", value=700, currency="EUR", person_id=(await contact_of(rows, bob)).pipedrive_person_id
    )
    await fake.change_deal(deal["id"], status="won", at=clock.now() + timedelta(minutes=1))
    await fake.delete_deal_in_app(deal["id"], at=clock.now() + timedelta(minutes=2))
    await settled(rows, 2)
    assert (await contact_of(rows, bob)).past_business == 0


async def test_deals_of_unknown_persons_are_ignored(core, fake, bob, receiver, rows, clock):
    stranger = fake.add_person("Eve Nobody", email="eve@else.example")
    deal = fake.add_deal("Elsewhere", value=100, person_id=stranger["id"])
    await fake.change_deal(deal["id"], status="won", at=clock.now())
    [event] = await settled(rows, 1)
    assert (event.status, event.outcome) == ("ignored", "unknown deal")
    assert await deal_rows(core) == []
    assert (await contact_of(rows, bob)).past_business == 0


# --- activities ------------------------------------------------------------------------------------------------


async def test_an_activity_done_in_pipedrive_is_a_touch_counted_in_stats_once(
    core, chat, fake, bob, receiver, rows, clock
):
    planned = fake.add_activity_in_app((await contact_of(rows, bob)).pipedrive_person_id, "meeting", "Coffee with Bob")
    await fake.mark_activity_done(planned["id"], at=clock.now() - timedelta(hours=1))
    await fake.mark_activity_done(planned["id"], at=clock.now() - timedelta(minutes=30))  # done again
    events = await settled(rows, 2)
    assert [e.status for e in events] == ["applied", "ignored"]
    [touch] = await rows(Activity)
    assert (touch.kind, touch.channel, touch.contact_id) == ("pipedrive", "pipedrive:meeting", bob.id)
    assert (await contact_of(rows, bob)).last_contacted_at == clock.now() - timedelta(hours=1)
    out = await chat.send(f"show {bob.email}")
    assert "Last touch: Tue 24 Nov 2026 08:00" in out
    assert "meeting done in Pipedrive: Coffee with Bob" in out
    stats = await chat.send("stats by method")
    assert "pipedrive:meeting" in stats


async def test_an_activity_the_product_sent_to_pipedrive_is_no_second_touch(
    core, chat, fake, bob, receiver, rows, clock, worker
):
    await chat.send(f"warm {bob.email}")
    await chat.send(f"log {bob.email} call")
    await worker.drain()
    [ours] = fake.live_activities()
    before = len(await rows(Activity))
    await fake.mark_activity_done(ours["id"], at=clock.now() + timedelta(minutes=1))
    events = await settled(rows, 1)
    assert [(e.entity, e.status) for e in events] == [("activity", "ignored")]
    assert len(await rows(Activity)) == before


async def test_an_activity_made_through_the_api_while_ours_is_being_sent_is_taken_for_ours(
    core, chat, fake, bob, receiver, rows, clock
):
    await chat.send(f"warm {bob.email}")
    await chat.send(f"log {bob.email} call")  # its sync waits: no worker runs
    before = len(await rows(Activity))
    person_id = (await contact_of(rows, bob)).pipedrive_person_id
    data = {"id": 4242, "type": "call", "done": True, "person_id": person_id, "subject": "Call"}
    await fake.emit("activity", "create", 4242, data=data, at=clock.now(), change_source="api")
    [event] = await settled(rows, 1)
    assert (event.status, event.outcome) == ("ignored", "an activity the sync is sending there")
    assert len(await rows(Activity)) == before


async def test_an_activity_not_done_or_of_an_unknown_person_is_no_touch(core, fake, bob, receiver, rows, clock):
    stranger = fake.add_person("Eve Nobody", email="eve@else.example")
    theirs = fake.add_activity_in_app(stranger["id"], "call")
    await fake.mark_activity_done(theirs["id"], at=clock.now())
    await settled(rows, 1)
    assert await rows(Activity) == []
    assert [e.outcome for e in await rows(PipedriveEvent)] == ["unknown person"]


# --- polling, where webhooks can't reach us ----------------------------------------------------------------------


async def test_polling_brings_the_same_changes_without_webhooks_and_its_mark_advances(
    core, settings, chat, fake, bob, rows, wall_clock
):
    clock = wall_clock
    poller = Poller(core, settings, client=company_client(settings))
    person_id = (await contact_of(rows, bob)).pipedrive_person_id
    deal = fake.add_deal("Acme renewal", value=12000, currency="EUR", person_id=person_id)
    planned = fake.add_activity_in_app(person_id, "call", "Call Bob back")
    first = await poller.poll_once()  # the first run only notes where Pipedrive stands
    assert (first.read, first.stored) == (0, 0)
    marks = await core.execute(PipedrivePollMarks())
    assert set(marks) == {"persons", "organizations", "deals", "activities", "recents"}

    assert fake.webhooks == {}  # nothing is sent: only the pull can see these
    await fake.change_person(person_id, name="Robert Stone", at=clock.now() + timedelta(minutes=1))
    await fake.change_deal(deal["id"], status="won", at=clock.now() + timedelta(minutes=2))
    await fake.mark_activity_done(planned["id"], at=clock.now() + timedelta(minutes=3))
    second = await poller.poll_once()
    assert second.stored >= 3 and second.applied == second.stored
    contact = await contact_of(rows, bob)
    assert contact.name == "Robert Stone"
    assert (contact.past_business, contact.past_business_currency) == (Decimal("12000.00"), "EUR")
    assert [(a.kind, a.channel) for a in await rows(Activity)] == [("pipedrive", "pipedrive:call")]
    later = await core.execute(PipedrivePollMarks())
    assert later["deals"] == clock.now().replace(microsecond=0) + timedelta(minutes=2)
    assert later["activities"] > marks["activities"]

    third = await poller.poll_once()  # the mark's own changes are read again, and act once
    assert third.stored == 0
    assert (await contact_of(rows, bob)).past_business == Decimal("12000.00")
    assert len(await rows(Activity)) == 1
    await poller.aclose()


async def test_polling_reads_every_page(core, settings, fake, bob, rows, wall_clock):
    poller = Poller(core, settings, client=company_client(settings))
    await poller.poll_once()
    person_id = (await contact_of(rows, bob)).pipedrive_person_id
    for n in range(3):
        deal = fake.add_deal(f"Deal {n}", value=1000, currency="EUR", person_id=person_id)
        await fake.change_deal(deal["id"], status="won", at=wall_clock.now() + timedelta(minutes=1, seconds=n))
    for n in range(600):
        fake.add_deal(f"Noise {n}", value=1)  # more than one page of 500
    report = await poller.poll_once()
    assert report.read >= 603
    assert (await contact_of(rows, bob)).past_business == Decimal("3000.00")
    assert fake.calls("GET", "/api/v2/deals") >= 3  # the first run's, and two pages
    await poller.aclose()


async def test_polling_brings_deletes_and_merges_the_v2_lists_leave_out(
    core, settings, chat, make, ana, fake, bob, rows, wall_clock
):
    poller = Poller(core, settings, client=company_client(settings))
    await poller.poll_once()
    clock = wall_clock
    person_id = (await contact_of(rows, bob)).pipedrive_person_id
    carol_person = fake.add_person("Carol Diaz", email="carol@globex.com")
    carol = await make.contact(ana, "Carol Diaz", email="carol@globex.com")
    await core.execute(RecordPipedriveIds(carol.id, person_id=carol_person["id"]))
    survivor = fake.add_person("Caroline Diaz", email="caroline@globex.com")
    await fake.delete_person_in_app(person_id, at=clock.now() + timedelta(minutes=1))
    await fake.merge_persons(carol_person["id"], survivor["id"], at=clock.now() + timedelta(minutes=2))
    assert fake.webhooks == {}  # nothing is sent: only the pull can see these
    report = await poller.poll_once()
    assert report.stored >= 3
    assert report.applied == report.stored + 1  # and the merge's survivor, read once the merge relinked Carol
    assert (await contact_of(rows, bob)).pipedrive_person_id is None
    assert "Deleted in Pipedrive on " in await chat.send(f"show {bob.email}")
    relinked = await contact_of(rows, carol)
    assert (relinked.pipedrive_person_id, relinked.pipedrive_deleted_at) == (survivor["id"], None)
    assert "Deleted in Pipedrive" not in await chat.send("show carol@globex.com")
    again = await poller.poll_once()  # read again from the mark: acts once
    assert again.stored == 0 and (await contact_of(rows, carol)).pipedrive_person_id == survivor["id"]
    assert fake.calls("GET", "/api/v1/recents") == 2  # none on the first run, which only notes where it stands
    await poller.aclose()
