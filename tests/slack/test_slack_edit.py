"""The contact form: Edit… on a contact card opens a modal filled with the contact's values; its submission is
one edit (answered in the DM with Undo), and a value the core refuses is shown under its field."""

import json

import pytest
from sqlalchemy import select

from core.models import AuditEntry, Contact

ANA, DM = "U0ANA", "DU0ANA"


@pytest.fixture
async def ana(make, fake):
    fake.add_user(ANA, "ana@example.com", tz="Europe/Paris")
    return await make.user("Ana Silva", email="ana@example.com")


@pytest.fixture
async def lima(make, ana, core):
    from core.command import Actor, ContactRef
    from core.contacts.commands import EditContact

    contact = await make.contact(
        ana, "Ana Lima", email="ana@x.example", organisation="Acme", phone="07700 900123", warmness=2
    )
    await core.execute(
        EditContact(
            Actor(ana.id),
            ContactRef(id=contact.id),
            "past business",
            "12k EUR",
            more_fields=(("sector", "Fintech"), ("country", "pt")),
        )
    )
    return contact


async def stored(core, contact_id: int) -> Contact:
    async with core.sessions() as session:
        return (await session.execute(select(Contact).where(Contact.id == contact_id))).scalar_one()


def inputs(modal: dict) -> dict:
    """Each input of the form by its block id: the value it was filled with."""
    out = {}
    for block in modal["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        out[block["block_id"]] = (
            element["initial_option"]["value"] if element["type"] == "static_select" else element.get("initial_value")
        )
    return out


def state(modal: dict, **changed) -> dict:
    """Slack's view.state.values for the form as filled in, with `changed` fields typed over ("" empties one)."""
    values = {}
    for field, value in {**inputs(modal), **changed}.items():
        if field == "warmness":
            values[field] = {"value": {"type": "static_select", "selected_option": {"value": value}}}
        else:
            values[field] = {"value": {"type": "plain_text_input", "value": value or None}}
    return values


async def open_form(slack, fake) -> dict:
    await slack.command(ANA, "show ana lima", channel=DM)
    [(channel, ts)] = list(fake.messages)
    await slack.tap(ANA, channel, ts, "✏️ Edit…")
    [opened] = fake.called("views.open")
    assert opened["trigger_id"].startswith("trigger-")
    [modal] = fake.modals
    return modal


async def test_edit_opens_the_form_filled_with_the_contacts_values(slack, fake, lima):
    modal = await open_form(slack, fake)
    assert modal["callback_id"] == "pd-edit"
    assert inputs(modal) == {
        "name": "Ana Lima",
        "email": "ana@x.example",
        "phone": "+447700900123",
        "organisation": "Acme",
        "title": None,
        "linkedin_url": None,
        "sector": "Fintech",
        "country": "Portugal",
        "warmness": "2",
        "past_business": "12000 EUR",
        "notes": None,
    }
    [warmness] = [b["element"] for b in modal["blocks"] if b.get("block_id") == "warmness"]
    assert [o["value"] for o in warmness["options"]] == ["0", "1", "2", "3", "4", "5"]


async def test_saving_the_form_edits_the_changed_fields_once_with_undo_in_the_dm(slack, fake, core, lima):
    modal = await open_form(slack, fake)
    sent = await slack.submit(ANA, modal, state(modal, email="ana@lima.example", phone="", warmness="3"))
    assert sent.status == 200 and sent.body == ""
    after = await stored(core, lima.id)
    assert (after.email, after.phone, after.warmness, after.organisation) == ("ana@lima.example", None, 3, "Acme")
    answer = fake.called("chat.postMessage")[-1]
    assert answer["channel"] == DM
    assert answer["text"] == "Ana Lima: email is now ana@lima.example, phone cleared and warmness is now 3."
    assert "↩ Undo" in json.dumps(answer["blocks"], ensure_ascii=False)
    async with core.sessions() as session:
        edits = (await session.execute(select(AuditEntry).where(AuditEntry.command == "EditContact"))).scalars().all()
    assert len(edits) == 2  # the fixture's past business, and the form's one edit
    await slack.command(ANA, "show ana lima", channel=DM)
    shown = json.dumps(fake.called("chat.postMessage")[-1]["blocks"], ensure_ascii=False)
    assert "ana@lima.example" in shown and "past business 12,000 EUR" in shown
    undo_ts = next(ts for (ch, ts), m in fake.messages.items() if m["text"].startswith("Ana Lima: email is now"))
    await slack.tap(ANA, DM, undo_ts, "↩ Undo")
    after = await stored(core, lima.id)
    assert (after.email, after.phone, after.warmness) == ("ana@x.example", "+447700900123", 2)


async def test_a_bad_email_is_shown_under_its_field_and_nothing_changes(slack, fake, core, lima):
    modal = await open_form(slack, fake)
    before = len(fake.called("chat.postMessage"))
    sent = await slack.submit(ANA, modal, state(modal, email="not-an-email", title="CFO"))
    answer = json.loads(sent.body)
    assert answer == {
        "response_action": "errors",
        "errors": {"email": "“not-an-email” is not a valid email address."},
    }
    after = await stored(core, lima.id)
    assert (after.email, after.title) == ("ana@x.example", None)
    assert len(fake.called("chat.postMessage")) == before  # nothing said in the DM: the form still shows


async def test_the_form_changes_the_sector_and_country_and_refuses_a_country_it_does_not_know(slack, fake, core, lima):
    modal = await open_form(slack, fake)
    refused = await slack.submit(ANA, modal, state(modal, country="Atlantis", sector="Energy"))
    assert json.loads(refused.body)["errors"] == {
        "country": "I don't know the country “Atlantis”: say its name (Portugal) or its two-letter code (PT)."
    }
    assert ((await stored(core, lima.id)).sector, (await stored(core, lima.id)).country) == ("Fintech", "PT")
    await slack.submit(ANA, modal, state(modal, country="Deutschland", sector=""))
    after = await stored(core, lima.id)
    assert (after.sector, after.country) == (None, "DE")
    assert fake.called("chat.postMessage")[-1]["text"] == "Ana Lima: sector cleared and country is now Germany."


async def test_the_form_of_someone_elses_contact_does_not_open(slack, fake, make, core, lima):
    zoe = await make.user("Zoe", email="zoe@example.com")
    fake.add_user("U0ZOE", "zoe@example.com")
    theirs = await make.contact(zoe, "Zed")
    await slack.command(ANA, "show ana lima", channel=DM)
    [(channel, ts)] = list(fake.messages)
    await slack.tap(ANA, channel, ts, "✏️ Edit…", value=f"edit:{theirs.id}")
    assert fake.called("views.open") == []
    assert "Zed" not in fake.called("chat.postMessage")[-1]["text"]


async def test_typed_edit_without_a_field_offers_the_fields_and_each_opens_the_form(slack, fake, lima):
    await slack.command(ANA, "edit ana lima", channel=DM)
    [(channel, ts)] = list(fake.messages)
    assert fake.messages[(channel, ts)]["text"] == "Which field of Ana Lima?"
    await slack.tap(ANA, channel, ts, "Phone")
    [modal] = fake.modals
    assert inputs(modal)["phone"] == "+447700900123"


async def test_typed_edit_of_a_field_without_a_value_opens_the_form(slack, fake, lima):
    await slack.command(ANA, "edit ana lima email")
    [modal] = fake.modals
    assert inputs(modal)["email"] == "ana@x.example"
    assert fake.responses == [] and fake.called("chat.postMessage") == []


async def test_a_dm_edit_of_a_field_without_a_value_offers_the_form(slack, fake, lima):
    await slack.event(
        {"type": "message", "channel_type": "im", "user": ANA, "channel": DM, "text": "edit ana lima email"}
    )
    [(channel, ts)] = list(fake.messages)
    assert fake.messages[(channel, ts)]["text"] == "Change it in the contact form:"
    await slack.tap(ANA, channel, ts, "✏️ Edit…")
    [modal] = fake.modals
    assert modal["callback_id"] == "pd-edit"


async def test_a_field_left_alone_keeps_a_change_made_meanwhile(slack, fake, core, ana, lima):
    modal = await open_form(slack, fake)
    await slack.command(ANA, "edit ana lima org Globex", channel=DM)  # while the form is open
    await slack.submit(ANA, modal, state(modal, title="CFO"))
    after = await stored(core, lima.id)
    assert (after.title, after.organisation) == ("CFO", "Globex")


async def test_saving_the_form_unchanged_changes_nothing(slack, fake, core, lima):
    modal = await open_form(slack, fake)
    await slack.submit(ANA, modal, state(modal))
    assert fake.called("chat.postMessage")[-1]["text"] == "Nothing changed: Ana Lima is as it was."
    async with core.sessions() as session:
        edits = (await session.execute(select(AuditEntry).where(AuditEntry.command == "EditContact"))).scalars().all()
    assert len(edits) == 1  # the fixture's


async def test_the_card_names_the_last_change_from_pipedrive_and_when(slack, fake, core, lima, clock):
    from datetime import timedelta

    from tests.pipedrive.helpers import renamed_in_pipedrive

    await renamed_in_pipedrive(core, lima, "Ana Lima-Costa", clock.now() + timedelta(minutes=5))
    await slack.command(ANA, "show lima-costa", channel=DM)
    shown = json.dumps(fake.called("chat.postMessage")[-1]["blocks"], ensure_ascii=False)
    assert "From Pipedrive: name changed, Tue 24 Nov 2026 10:05." in shown  # Ana's Slack time zone: Paris
