"""Erasing a person while their sync to Pipedrive is in flight: no copy may stay in Pipedrive unreported."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import SyncInFlight
from core.models import Contact, OutboxMessage
from core.privacy.commands import EraseContact
from tests.pipedrive.helpers import me, ref, warm


async def test_an_erasure_waits_for_the_sync_in_flight_and_names_the_person_it_created(
    core, make, ana, fake, worker, rows
):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await warm(core, ana, bob)
    erasing: list[asyncio.Task] = []

    async def erase_meanwhile():
        erasing.append(asyncio.create_task(core.execute(EraseContact(me(ana), ref(bob)))))
        await asyncio.sleep(0.1)  # the erasure has started, and found the sync under way
        assert not erasing[0].done()

    fake.before_answering("POST", "/api/v2/persons", erase_meanwhile)
    await worker.drain()
    erased = await erasing[0]
    [person] = fake.live_persons()
    assert erased.pipedrive_person_ids == (person["id"],)
    assert f"Pipedrive still holds a copy: delete person {person['id']}" in erased.message
    assert await rows(Contact) == [] and await rows(OutboxMessage) == []


@pytest.mark.parametrize("pipedrive_settings", [{"busy_wait_seconds": 0}])
async def test_an_erasure_that_cannot_wait_longer_erases_nothing_and_says_so(core, make, ana, fake, worker, rows):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await warm(core, ana, bob)
    refused: list[SyncInFlight] = []

    async def erase_meanwhile():
        with pytest.raises(SyncInFlight) as caught:
            await core.execute(EraseContact(me(ana), ref(bob)))
        refused.append(caught.value)

    fake.before_answering("POST", "/api/v2/persons", erase_meanwhile)
    await worker.drain()
    assert "nothing was erased" in refused[0].user_message
    [contact] = await rows(Contact)
    assert contact.pipedrive_person_id == fake.live_persons()[0]["id"]


async def test_a_person_created_for_a_contact_erased_after_the_worker_s_lease_ran_out_is_deleted(
    core, make, ana, fake, worker, rows
):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await warm(core, ana, bob)
    erased = []

    async def erase_after_the_lease():
        core.clock.advance(seconds=core.settings.pipedrive_lease_seconds + 1)
        erased.append(await core.execute(EraseContact(me(ana), ref(bob))))

    fake.before_answering("POST", "/api/v2/persons", erase_after_the_lease)
    await worker.drain()
    assert erased[0].pipedrive_person_ids == ()
    assert fake.calls("DELETE", r"/api/v2/persons/\d+") == 1
    assert fake.live_persons() == []
    assert await rows(Contact) == []


async def test_an_erasure_after_a_sync_lost_pipedrive_s_answer_says_a_copy_may_be_there(
    core, make, ana, fake, worker, rows
):
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    await warm(core, ana, bob)
    fake.fail("POST", "/api/v2/persons", "lost")
    await worker.drain()
    [row] = await rows(OutboxMessage)
    assert (row.status, row.attempts) == ("pending", 1)
    erased = await core.execute(EraseContact(me(ana), ref(bob)))
    assert len(fake.live_persons()) == 1
    assert "may have created this person there without Pipedriven knowing" in erased.message
    assert "never created one there" not in erased.message
