"""A contact edited once it is in Pipedrive: the worker updates the person there, never the chat request."""

from __future__ import annotations

from core.contacts.commands import EditContact, UndoContactEdit
from core.models import Contact, OutboxMessage
from tests.pipedrive.helpers import assert_clean, me, ref, warm


async def in_pipedrive(core, make, ana, worker, **fields):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme", **fields)
    await warm(core, ana, bob)
    assert await worker.drain() == 1
    return bob


async def test_name_email_phone_and_organisation_edits_reach_the_person(core, make, ana, fake, worker, rows):
    bob = await in_pipedrive(core, make, ana, worker)
    [person] = fake.persons.values()
    for field, value in (("name", "Robert Stone"), ("email", "robert@globex.com"), ("phone", "+44 20 7946 0958")):
        result = await core.execute(EditContact(me(ana), ref(bob), field, value))
        assert result.sync_queued and result.message.endswith(" Pipedrive sync queued.")
    assert person["name"] == "Bob Stone"  # nothing reaches Pipedrive inside the request
    assert await worker.drain() == 3
    assert person["name"] == "Robert Stone"
    assert person["emails"] == [{"value": "robert@globex.com", "primary": True, "label": "work"}]
    assert person["phones"] == [{"value": "+442079460958", "primary": True, "label": "work"}]
    await core.execute(EditContact(me(ana), ref(bob), "org", "Globex"))
    await worker.drain()
    globex = next(o for o in fake.organizations.values() if o["name"] == "Globex")
    assert person["org_id"] == globex["id"]
    [contact] = await rows(Contact)
    assert contact.pipedrive_org_id == globex["id"]
    assert_clean(fake, orgs=2, persons=1)


async def test_undoing_an_edit_puts_the_old_name_back_in_pipedrive(core, make, ana, fake, worker):
    bob = await in_pipedrive(core, make, ana, worker)
    [person] = fake.persons.values()
    edit = await core.execute(EditContact(me(ana), ref(bob), "name", "Robbie"))
    await worker.drain()
    assert person["name"] == "Robbie"
    await core.execute(UndoContactEdit(me(ana), ref(bob), edit.edit_id))
    await worker.drain()
    assert person["name"] == "Bob Stone"
    assert_clean(fake, orgs=1, persons=1)


async def test_edits_of_a_contact_not_in_pipedrive_or_of_other_fields_queue_nothing(core, make, ana, fake, rows):
    carol = await make.contact(ana, "Carol", email="carol@acme.com")
    assert not (await core.execute(EditContact(me(ana), ref(carol), "name", "Caroline"))).sync_queued
    assert await rows(OutboxMessage) == []


async def test_a_title_or_past_business_edit_of_a_synced_contact_queues_nothing(core, make, ana, fake, worker, rows):
    bob = await in_pipedrive(core, make, ana, worker)
    for field, value in (("title", "CFO"), ("past business", "12k EUR")):
        assert not (await core.execute(EditContact(me(ana), ref(bob), field, value))).sync_queued
    assert len(await rows(OutboxMessage)) == 1
