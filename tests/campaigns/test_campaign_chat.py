"""Campaigns in the chat, end to end through the console: who may create, edit, launch, close, view and fill
them, and what each user sees of a campaign's contacts."""

from __future__ import annotations

import pytest

from bot.console import ConsoleChat
from core.campaigns.commands import AddContactToCampaign, ShowCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.errors import NotFound
from core.outreach.commands import BookMeeting, LogOutreach, RequestMeeting


@pytest.fixture
async def gt_chat(core, gt):
    return ConsoleChat(core, gt)


@pytest.fixture
async def ana_chat(core, ana):
    return ConsoleChat(core, ana)


async def test_golden_ticket_creates_edits_launches_and_closes_a_campaign_in_chat(gt_chat):
    out = await gt_chat.send(
        "campaign new Fintech Q4 sector fintech theme payments geo UK from 2026-12-01 "
        "to 2026-12-31 description CFOs of scale-ups, to and from London"
    )
    assert out == "Campaign “Fintech Q4” created (draft)."
    assert await gt_chat.send("campaign edit fintech q4 geo UK and Ireland") == "Campaign “Fintech Q4” saved (draft)."
    assert await gt_chat.send("campaign live Fintech Q4") == "Campaign “Fintech Q4” saved (live)."
    shown = await gt_chat.send("campaign show Fintech Q4")
    assert shown.splitlines()[:3] == [
        "Fintech Q4 [live] · fintech · payments · UK and Ireland · 1 Dec 2026 – 31 Dec 2026",
        "0 contacts · 0 meetings requested · 0 booked",
        "CFOs of scale-ups, to and from London",
    ]
    assert await gt_chat.send("campaign edit Fintech Q4 to 2026-11-30") == "A campaign can't end before it starts."
    assert await gt_chat.send("campaign close Fintech Q4") == "Campaign “Fintech Q4” saved (closed)."
    assert await gt_chat.send("campaigns") == "No open campaigns yet."


async def test_consultants_cannot_create_edit_or_close_campaigns(ana_chat, campaign):
    await campaign("Fintech", status="draft")
    assert await ana_chat.send("campaign new Mine") == "Only the Golden Ticket team can create campaigns."
    assert await ana_chat.send("campaign live Fintech") == "Only the Golden Ticket team can edit campaigns."
    assert await ana_chat.send("campaign close Fintech") == "Only the Golden Ticket team can edit campaigns."
    assert await ana_chat.send("campaign edit Fintech sector x") == "Only the Golden Ticket team can edit campaigns."
    assert "Fintech [draft]" in await ana_chat.send("campaigns")


async def test_a_consultant_adds_own_contacts_by_row_email_or_name_with_a_planned_method(ana_chat, ana, make, campaign):
    await campaign("Fintech")
    await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await make.contact(ana, "Cara Diaz", organisation="Diaz SA")
    await ana_chat.send("find cara")
    assert await ana_chat.send("campaign add Fintech 1 call") == "Added Cara Diaz to “Fintech” (1 in all)."
    assert await ana_chat.send("campaign add Fintech bob@acme.com") == "Added Bob Stone to “Fintech” (2 in all)."
    assert (
        await ana_chat.send("campaign add Fintech Bob Stone linkedin")
        == "Bob Stone is already in “Fintech”; planned method now LinkedIn."
    )
    table = (await ana_chat.send("campaign show Fintech")).splitlines()
    assert table[1] == "2 contacts · 0 meetings requested · 0 booked"
    assert table[2].split() == ["Contact", "Owner", "Plan", "Last", "outreach", "Status", "Req", "Bkd"]
    assert table[3].split() == ["Bob", "Stone", "Ana", "LinkedIn", "never", "planned", "0", "0"]
    assert table[4].split() == ["Cara", "Diaz", "(Diaz", "SA)", "Ana", "Call", "never", "planned", "0", "0"]


async def test_a_consultant_cannot_add_someone_elses_contact_even_by_id(core, ana, zoe, make, campaign, ana_chat):
    await campaign("Fintech")
    theirs = await make.contact(zoe, "Zed", email="zed@x.com")
    assert await ana_chat.send(f"campaign add Fintech #{theirs.id}") == "That contact is not in your bank."
    assert await ana_chat.send("campaign add Fintech zed@x.com") == "No contact in your bank matches “zed@x.com”."
    with pytest.raises(NotFound):
        await core.execute(AddContactToCampaign(Actor(ana.id), CampaignRef.of("Fintech"), ContactRef(id=theirs.id)))


async def test_golden_ticket_adds_any_banks_contact_by_id_and_is_warned_of_the_same_email_elsewhere(
    gt_chat, ana, zoe, make, campaign
):
    await campaign("Fintech")
    anas = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await make.contact(zoe, "Robert Stone", email="BOB@acme.com")
    out = await gt_chat.send(f"campaign add Fintech #{anas.id} email")
    assert out == "Added Bob Stone to “Fintech” (1 in all).\n⚠️ Bob Stone is also in Zoe's bank."
    assert await gt_chat.send("campaign add Fintech #999999") == "There is no contact #999999."


async def test_a_closed_campaign_takes_no_more_contacts(ana_chat, ana, make, campaign):
    await campaign("Old", status="closed")
    await make.contact(ana, "Bob Stone")
    assert await ana_chat.send("campaign add Old bob") == "Campaign “Old” is closed."


async def test_the_campaign_view_shows_owner_last_outreach_status_and_meetings(
    core, gt, ana, zoe, make, campaign, clock
):
    """Hand-counted: Bob (Ana's) had a LinkedIn then an email, a meeting requested and one booked; Cy (Zoe's)
    a call; Di (Zoe's) nothing. Bob's meeting booked before joining counts nowhere in this campaign."""
    await campaign("Fintech")
    bob = await make.contact(ana, "Bob Stone")
    cy, di = await make.contact(zoe, "Cy Young"), await make.contact(zoe, "Di Ng")
    on = lambda user, k: (Actor(user.id), ContactRef(id=k.id))  # noqa: E731
    start = clock.now()
    await core.execute(BookMeeting(*on(ana, bob)))  # before the campaign: not counted in it
    for _user, contact in ((ana, bob), (zoe, cy), (zoe, di)):
        await core.execute(
            AddContactToCampaign(Actor(gt.id), CampaignRef.of("Fintech"), ContactRef(id=contact.id), "email")
        )
    clock.advance(days=1)
    await core.execute(LogOutreach(*on(ana, bob), "linkedin"))
    await core.execute(LogOutreach(*on(zoe, cy), "call"))
    clock.advance(days=1)
    await core.execute(LogOutreach(*on(ana, bob), "email"))
    await core.execute(RequestMeeting(*on(ana, bob)))
    await core.execute(BookMeeting(*on(ana, bob)))

    everyone = await core.execute(ShowCampaign(Actor(gt.id), CampaignRef.of("fintech")))
    assert everyone.others == 0 and everyone.campaign.contact_count == 3
    assert [
        (
            m.name,
            m.owner,
            m.planned_method,
            m.last_method,
            m.last_outreach_at,
            m.status,
            m.meetings_requested,
            m.meetings_booked,
        )
        for m in everyone.members
    ] == [
        ("Bob Stone", "Ana", "email", "email", start.replace(day=start.day + 2), "meeting_booked", 1, 1),
        ("Cy Young", "Zoe", "call", "call", start.replace(day=start.day + 1), "contacted", 0, 0),
        ("Di Ng", "Zoe", "email", None, None, "planned", 0, 0),
    ]
    # Banks are private: Ana sees her own contact in the campaign and how many others there are.
    anas_view = await core.execute(ShowCampaign(Actor(ana.id), CampaignRef.of("Fintech")))
    assert [m.name for m in anas_view.members] == ["Bob Stone"] and anas_view.others == 2
    text = await ConsoleChat(core, ana).send("campaign show Fintech")
    assert "2 more contacts of this campaign are in other users' banks." in text
    assert "Cy Young" not in text and "Di Ng" not in text


async def test_an_unknown_campaign_is_not_found(core, ana):
    with pytest.raises(NotFound, match="There is no campaign “Nope”"):
        await core.execute(ShowCampaign(Actor(ana.id), CampaignRef.of("Nope")))


@pytest.mark.parametrize(
    "text, problem",
    [
        ("campaign frobnicate X", "I don't know “frobnicate” for a campaign"),
        ("campaign new", "Which campaign?"),
        ("campaign new X sector", "`sector` needs a value."),
        ("campaign new Back to School", "I can't read “School” as a date"),
        ("campaign edit Fintech", "What should change?"),
        ("campaign add Fintech", "Which campaign, and which contact?"),
        ("campaign show", "Which campaign?"),
    ],
)
async def test_campaign_words_that_dont_parse_get_their_usage(ana_chat, text, problem):
    out = await ana_chat.send(text)
    assert problem in out and "Usage: campaign new|edit|live|close|show|add NAME" in out


async def test_a_campaign_name_with_keywords_in_quotes(gt_chat):
    assert (
        await gt_chat.send('campaign new "Back to School" from 2027-01-05')
        == "Campaign “Back to School” created (draft)."
    )
    assert "5 Jan 2027" in await gt_chat.send('campaign show "Back to School"')


async def test_adding_one_contact_is_in_the_audit_trail_with_its_ids(core, ana, make, campaign, ana_chat):
    from sqlalchemy import select

    from core.models import AuditEntry

    fintech = await campaign("Fintech")
    bob = await make.contact(ana, "Bob Stone")
    await ana_chat.send("campaign add Fintech bob")
    await ana_chat.send("campaign show Fintech")  # a read: not in the trail
    async with core.sessions() as session:
        entries = (
            (await session.execute(select(AuditEntry).where(AuditEntry.user_id == ana.id).order_by(AuditEntry.id)))
            .scalars()
            .all()
        )
    assert [(e.command, e.platform, e.contact_ids, e.campaign_ids) for e in entries][-1] == (
        "AddContactToCampaign",
        "console",
        [bob.id],
        [fintech.id],
    )
    assert "ShowCampaign" not in {e.command for e in entries}


@pytest.mark.parametrize(
    "text",
    [
        'campaign add "" x',
        "campaign new \x00",
        "campaign edit Fintech from 2026-02-30",
        "campaign add Fintech #99999999999999",
        "campaign add Fintech #0",
        "campaign new " + "x" * 5000,
        "campaign edit Fintech description " + "y" * 3000,
        "campaign show " + "%_\\" * 40,
        "campaign live",
        "campaign add 🔥 🔥 🔥",
        'campaign new "" sector x',
        "campaign new Z from 2026-12-01 to 2026-11-01",
        "campaign edit Fintech name fintech",
    ],
)
async def test_campaign_garbage_gets_a_message_never_a_crash(gt_chat, campaign, text):
    await campaign("Fintech")
    out = await gt_chat.send(text)
    assert out and "Traceback" not in out and "Something went wrong" not in out
