"""A person already in a colleague's bank: `add`, `warm` and `campaign add` say so, by the colleague's name
only."""

from __future__ import annotations

from core.campaigns.commands import AddToCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.contacts.commands import AddContact
from core.outreach.commands import FlagWarm


async def test_adding_a_person_a_colleague_has_notes_whose_bank_they_are_in(core, make):
    ana, carl = await make.user("Ana"), await make.user("Carl")
    await make.contact(carl, "Ana L.", email="ana@lima.pt", phone="+351912345678", notes="owes me lunch")
    result = await core.execute(AddContact(Actor(ana.id), "Ana Lima", email="ANA@lima.pt"))
    assert result.message == "Added Ana Lima to your bank. Note: Ana Lima is also in Carl's bank."
    assert "Ana L." not in result.message and "lunch" not in result.message and "351" not in result.message


async def test_adding_a_person_no_colleague_has_adds_no_note(core, make):
    ana, carl = await make.user("Ana"), await make.user("Carl")
    await make.contact(carl, "Bo Chen", email="bo@chen.io")
    await make.contact(ana, "Old Ana", email="old@ana.pt")
    for name, email in (("Bo Chen", None), ("Cy", "cy@example.com")):
        result = await core.execute(AddContact(Actor(ana.id), name, email=email))
        assert "Note" not in result.message


async def test_the_note_names_every_colleague_who_has_the_person(core, make):
    ana, carl, dee = await make.user("Ana"), await make.user("Carl"), await make.user("Dee")
    await make.contact(dee, "Bo", email="bo@chen.io")
    await make.contact(carl, "Bo C.", email="Bo@Chen.io")
    result = await core.execute(AddContact(Actor(ana.id), "Bo Chen", email="bo@chen.io"))
    assert result.message.endswith(" Note: Bo Chen is also in Carl's and Dee's banks.")


async def test_flagging_warm_a_person_in_a_colleagues_bank_warns(core, make):
    ana, carl = await make.user("Ana"), await make.user("Carl")
    anas = await make.contact(ana, "Ana Lima", email="ana@lima.pt")
    await make.contact(carl, "Ana", email="ana@lima.pt")
    result = await core.execute(FlagWarm(Actor(ana.id), ContactRef(id=anas.id)))
    assert (
        result.message
        == "🔥 Ana Lima flagged warm (4/5). Pipedrive sync queued. Note: Ana Lima is also in Carl's bank."
    )
    again = await core.execute(FlagWarm(Actor(ana.id), ContactRef(id=anas.id)))
    assert again.message == "Ana Lima is already warm (4/5)."


async def test_campaign_add_words_the_collision_the_same_way(core, make, campaign):
    ana, carl = await make.user("Ana"), await make.user("Carl")
    camp = await campaign("Fintech")
    anas = await make.contact(ana, "Ana Lima", email="ana@lima.pt")
    await make.contact(carl, "Ana", email="ana@lima.pt")
    result = await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=camp.id), (anas.id,)))
    assert result.warnings == ("Ana Lima is also in Carl's bank.",)
