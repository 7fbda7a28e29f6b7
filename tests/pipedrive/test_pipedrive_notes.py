"""Notes go to Pipedrive as notes on the person, by the worker: each `note` once, the contact's notes field
created, replaced and deleted with it; and a contact's sector and country reach its organisation."""

from __future__ import annotations

import pytest

from core.contacts.commands import EditContact
from core.models import Activity, Contact
from core.outreach.commands import AddNote
from tests.pipedrive.helpers import assert_clean, me, ref, warm


async def in_pipedrive(core, make, ana, worker, **fields):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme", **fields)
    await warm(core, ana, bob)
    await worker.drain()
    return bob


async def test_a_note_on_a_contact_in_pipedrive_becomes_a_note_on_its_person_once(core, make, ana, fake, worker, rows):
    bob = await in_pipedrive(core, make, ana, worker)
    [person] = fake.persons.values()
    result = await core.execute(AddNote(me(ana), ref(bob), "Met at the <fintech> dinner\nwants a demo"))
    assert result.sync_queued
    assert fake.live_notes() == []  # never inside the chat request
    assert await worker.drain() == 1
    [note] = fake.live_notes()
    assert note["person_id"] == person["id"]
    assert note["content"] == "Met at the &lt;fintech&gt; dinner<br>wants a demo"
    [activity] = await rows(Activity, Activity.kind == "note")
    assert (activity.pipedrive_note_id, activity.sync_state) == (note["id"], "synced")
    await core.execute(AddNote(me(ana), ref(bob), "second thought"))
    await worker.drain()
    assert [n["content"] for n in fake.live_notes()] == [note["content"], "second thought"]
    assert fake.calls("POST", "/api/v1/notes") == 2
    assert_clean(fake, orgs=1, persons=1)


async def test_a_note_whose_answer_was_lost_is_found_not_written_twice(core, make, ana, fake, worker, rows, clock):
    bob = await in_pipedrive(core, make, ana, worker)
    await core.execute(AddNote(me(ana), ref(bob), "call back in May"))
    await worker.drain()
    await core.execute(AddNote(me(ana), ref(bob), "call back in May"))  # the same words again: a second note
    fake.fail("POST", "/api/v1/notes", "lost")
    await worker.drain()
    assert len(fake.live_notes()) == 2
    clock.advance(seconds=2)
    await worker.drain()
    assert len(fake.live_notes()) == 2
    activities = await rows(Activity, Activity.kind == "note")
    assert sorted(a.pipedrive_note_id for a in activities) == sorted(fake.notes)


async def test_the_notes_field_is_created_replaced_and_deleted_with_the_contact(core, make, ana, fake, worker, rows):
    bob = await in_pipedrive(core, make, ana, worker)
    [person] = fake.persons.values()
    result = await core.execute(EditContact(me(ana), ref(bob), "notes", "prefers mornings"))
    assert result.sync_queued
    await worker.drain()
    [note] = fake.live_notes(person["id"])
    assert note["content"] == "prefers mornings"
    [contact] = await rows(Contact)
    assert contact.pipedrive_note_id == note["id"]

    await core.execute(EditContact(me(ana), ref(bob), "notes", "prefers afternoons"))
    await worker.drain()
    assert [n["content"] for n in fake.live_notes()] == ["prefers afternoons"]
    assert (fake.calls("POST", "/api/v1/notes"), fake.calls("PUT", r"/api/v1/notes/\d+")) == (1, 1)

    await core.execute(EditContact(me(ana), ref(bob), "notes", "-"))
    await worker.drain()
    assert fake.live_notes() == []
    assert fake.calls("DELETE", r"/api/v1/notes/\d+") == 1
    [contact] = await rows(Contact)
    assert contact.pipedrive_note_id is None
    assert_clean(fake, orgs=1, persons=1)


async def test_a_contact_linked_later_takes_its_notes_along_once(core, make, ana, fake, worker, rows):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", notes="met at Web Summit")
    for text in ("likes golf", "has budget in Q3"):
        assert not (await core.execute(AddNote(me(ana), ref(bob), text))).sync_queued
    await worker.drain()
    assert fake.notes == {}  # not in Pipedrive: nothing goes
    await warm(core, ana, bob)
    await worker.drain()
    [person] = fake.persons.values()
    assert sorted(n["content"] for n in fake.live_notes(person["id"])) == [
        "has budget in Q3",
        "likes golf",
        "met at Web Summit",
    ]
    await core.execute(AddNote(me(ana), ref(bob), "sent the deck"))
    await warm(core, ana, bob)
    await worker.drain()
    assert len(fake.live_notes()) == 4
    assert fake.calls("POST", "/api/v1/notes") == 4


async def test_an_outreach_note_stays_the_activity_s_note_and_is_not_a_pipedrive_note(core, make, ana, fake, worker):
    from core.outreach.commands import LogOutreach

    bob = await in_pipedrive(core, make, ana, worker)
    await core.execute(LogOutreach(me(ana), ref(bob), "call", note="left a voicemail"))
    await worker.drain()
    assert fake.notes == {}
    assert any("left a voicemail" in (a["note"] or "") for a in fake.live_activities())


@pytest.fixture
def fake_options():
    return {"organization_fields": (("Industry", "varchar", ()),)}


async def test_a_new_organisation_gets_the_contact_s_country_and_industry(core, make, ana, fake, worker):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme")
    await core.execute(EditContact(me(ana), ref(bob), "sector", "Fintech"))
    await core.execute(EditContact(me(ana), ref(bob), "country", "pt"))
    await warm(core, ana, bob)
    await worker.drain()
    [org] = fake.organizations.values()
    assert org["address"] == {"value": "Portugal", "country": "Portugal"}
    assert org["custom_fields"] == {fake.organization_field_key("Industry"): "Fintech"}


async def test_a_sector_or_country_edit_updates_the_organisation(core, make, ana, fake, worker):
    bob = await in_pipedrive(core, make, ana, worker)
    [org] = fake.organizations.values()
    assert org["address"] is None and org["custom_fields"] == {}
    result = await core.execute(EditContact(me(ana), ref(bob), "country", "Deutschland"))
    assert result.sync_queued
    await core.execute(EditContact(me(ana), ref(bob), "sector", "Insurance"))
    await worker.drain()
    assert org["address"] == {"value": "Germany", "country": "Germany"}
    assert org["custom_fields"] == {fake.organization_field_key("Industry"): "Insurance"}
    assert fake.calls("GET", "/api/v1/organizationFields") == 1  # cached
    assert_clean(fake, orgs=1, persons=1)


async def test_an_organisation_pipedrive_had_gets_what_it_lacks_and_keeps_what_it_holds(core, make, ana, fake, worker):
    industry = fake.organization_field_key("Industry")
    acme = fake.add_organization("Acme")  # nothing of its address or industry filled in
    globex = fake.add_organization("Globex")  # its address filled in, not its industry
    globex["address"] = {"value": "1 Rue de Rivoli, Paris", "country": "France"}
    initech = fake.add_organization("Initech")  # its industry filled in, not its address
    initech["custom_fields"] = {industry: "Retail"}
    for name, email, organisation in (
        ("Bob Stone", "bob@acme.com", "Acme"),
        ("Eve Moss", "eve@globex.com", "Globex"),
        ("Ian Park", "ian@initech.com", "Initech"),
    ):
        contact = await make.contact(ana, name, email=email, organisation=organisation)
        await core.execute(EditContact(me(ana), ref(contact), "sector", "Fintech"))
        await core.execute(EditContact(me(ana), ref(contact), "country", "pt"))
        await warm(core, ana, contact)
    await worker.drain()
    assert acme["address"] == {"value": "Portugal", "country": "Portugal"}
    assert acme["custom_fields"] == {industry: "Fintech"}
    assert globex["address"] == {"value": "1 Rue de Rivoli, Paris", "country": "France"}
    assert globex["custom_fields"] == {industry: "Fintech"}
    assert initech["address"] == {"value": "Portugal", "country": "Portugal"}
    assert initech["custom_fields"] == {industry: "Retail"}
    assert_clean(fake, orgs=3, persons=3)


class TestIndustryAsOptions:
    @pytest.fixture
    def fake_options(self):
        return {"organization_fields": (("Industry", "enum", ("Banking", "Fintech")),)}

    async def test_the_sector_is_the_option_of_that_name_or_left_out(self, core, make, ana, fake, worker):
        bob = await in_pipedrive(core, make, ana, worker)
        [org] = fake.organizations.values()
        await core.execute(EditContact(me(ana), ref(bob), "sector", "fintech"))
        await worker.drain()
        key = fake.organization_field_key("Industry")
        fintech = next(o["id"] for o in fake.organization_option_list("Industry") if o["label"] == "Fintech")
        assert org["custom_fields"] == {key: fintech}
        await core.execute(EditContact(me(ana), ref(bob), "sector", "Space mining"))
        await worker.drain()
        assert org["custom_fields"] == {key: fintech}  # no such option: the industry is left as it was


class TestNoIndustryField:
    @pytest.fixture
    def fake_options(self):
        return {}

    async def test_without_an_industry_field_only_the_address_is_sent(self, core, make, ana, fake, worker):
        bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme")
        await core.execute(EditContact(me(ana), ref(bob), "sector", "Fintech"))
        await core.execute(EditContact(me(ana), ref(bob), "country", "UK"))
        await warm(core, ana, bob)
        await worker.drain()
        [org] = fake.organizations.values()
        assert org["address"] == {"value": "United Kingdom", "country": "United Kingdom"}
        assert org["custom_fields"] == {}


async def test_in_the_chat_a_note_is_queued_and_sync_lists_it(core, make, ana, fake, worker):
    from bot.console import ConsoleChat

    chat = ConsoleChat(core, ana)
    await in_pipedrive(core, make, ana, worker)
    answer = await chat.send("note bob wants the pricing sheet")
    assert "Note added to Bob Stone." in answer
    await worker.drain()
    assert [n["content"] for n in fake.live_notes()] == ["wants the pricing sheet"]
    listed = await chat.send("sync")
    assert "Bob Stone — note: in Pipedrive" in listed
