"""The sync end to end: chat commands queue outbox rows, the worker drains them into a fake Pipedrive."""

from __future__ import annotations

from core.commands import FlagWarm
from core.models import Contact, OutboxMessage
from tests.pipedrive.conftest import me, ref


async def test_first_sync_of_a_warm_contact_creates_organisation_and_person(core, make, ana, fake, worker, rows):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme", phone="+44 20 7946 0958")
    await core.execute(FlagWarm(me(ana), ref(bob)))
    assert await worker.drain() == 1
    [org] = fake.organizations.values()
    [person] = fake.persons.values()
    assert org["name"] == "Acme" and org["owner_id"] == 101
    assert person["name"] == "Bob Stone" and person["org_id"] == org["id"] and person["owner_id"] == 101
    assert person["emails"] == [{"value": "bob@acme.com", "primary": True, "label": "work"}]
    assert person["phones"][0]["value"] == "+442079460958"
    warm = next(o["id"] for o in fake.label_options() if o["label"] == "Warm lead")
    assert person["label_ids"] == [warm]
    [contact] = await rows(Contact)
    assert (contact.pipedrive_person_id, contact.pipedrive_org_id) == (person["id"], org["id"])
    [row] = await rows(OutboxMessage)
    assert (row.status, row.attempts, row.last_error) == ("done", 1, None)
    assert fake.deal_calls == 0
