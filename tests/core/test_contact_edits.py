"""`edit CONTACT FIELD VALUE`: one field corrected, cleaned as on import, and taken back with Undo."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.command import Actor, ContactRef
from core.contacts.commands import EditContact, ShowContact, UndoContactEdit
from core.errors import Conflict, InvalidInput, NotFound
from core.models import AuditEntry, Contact, OutboxMessage


async def row(core, contact_id: int) -> Contact:
    async with core.sessions() as session:
        return (await session.execute(select(Contact).where(Contact.id == contact_id))).scalar_one()


async def edit(core, user, contact, field: str, value: str):
    return await core.execute(EditContact(Actor(user.id), ContactRef(id=contact.id), field, value))


@pytest.mark.parametrize(
    "field, typed, column, stored",
    [
        ("name", "  Robert   Stone ", "name", "Robert Stone"),
        ("email", "Robert@Stone.IO", "email", "robert@stone.io"),
        ("phone", "07700 900123", "phone", "+447700900123"),
        ("organisation", "Globex Corp", "organisation", "Globex Corp"),
        ("org", "Initech", "organisation", "Initech"),
        ("company", "Umbrella", "organisation", "Umbrella"),
        ("title", "CFO", "title", "CFO"),
        ("linkedin", "https://linkedin.com/in/bob", "linkedin_url", "https://linkedin.com/in/bob"),
        ("warmness", "2", "warmness", 2),
        ("warmness", "cold", "warmness", 0),
        ("past business", "12000", "past_business", Decimal("12000.00")),
        ("notes", "Prefers mornings", "notes", "Prefers mornings"),
        ("sector", "  Green   energy ", "sector", "Green energy"),
        ("industry", "Fintech", "sector", "Fintech"),
        ("country", "Portugal", "country", "PT"),
        ("country", "fr", "country", "FR"),
        ("country", "Deutschland", "country", "DE"),
        ("country", "  united kingdom ", "country", "GB"),
    ],
)
async def test_edit_sets_each_field_cleaned_as_on_import(core, make, field, typed, column, stored):
    ana = await make.user()
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme", warmness=3)
    result = await edit(core, ana, bob, field, typed)
    assert getattr(await row(core, bob.id), column) == stored
    assert result.message.startswith(f"{stored if column == 'name' else 'Bob Stone'}: ")
    assert result.edit_id is not None


@pytest.mark.parametrize(
    "typed, amount, currency",
    [("12k EUR", "12000.00", "EUR"), ("1.5m usd", "1500000.00", "USD"), ("12,500", "12500.00", None)],
)
async def test_past_business_keeps_the_amount_and_its_currency(core, make, typed, amount, currency):
    ana = await make.user()
    bob = await make.contact(ana, "Bob Stone")
    result = await edit(core, ana, bob, "past business", typed)
    stored = await row(core, bob.id)
    assert (stored.past_business, stored.past_business_currency) == (Decimal(amount), currency)
    assert f"past business is now {Decimal(amount):,.2f}" in result.message


@pytest.mark.parametrize(
    "field, typed, message",
    [
        ("email", "not-an-email", "is not a valid email address"),
        ("phone", "call me", "is not a phone number I can read"),
        ("warmness", "9", "Warmness goes from 0 to 5"),
        ("warmness", "tepidish", "is not a warmness"),
        ("past business", "lots", "is not an amount"),
        ("past business", "-5", "is not an amount"),
        ("name", "   ", "The name can't be empty"),
        ("title", "x" * 201, "The title is too long"),
        ("sector", "x" * 201, "The sector is too long"),
        ("country", "Atlantis", "I don't know the country “Atlantis”: say its name .Portugal. or its two-letter code"),
        ("country", "zz", "I don't know the country “zz”"),
    ],
)
async def test_a_value_that_fails_validation_changes_nothing(core, make, field, typed, message):
    ana = await make.user()
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", phone="07700 900123", title="CTO", warmness=3)
    before = await row(core, bob.id)
    with pytest.raises(InvalidInput, match=message) as refused:
        await edit(core, ana, bob, field, typed)
    assert "\n" not in str(refused.value)
    after = await row(core, bob.id)
    columns = (
        "name",
        "email",
        "phone",
        "title",
        "sector",
        "country",
        "warmness",
        "past_business",
        "past_business_currency",
        "updated_at",
    )
    assert [getattr(after, c) for c in columns] == [getattr(before, c) for c in columns]
    async with core.sessions() as session:
        assert (await session.execute(select(AuditEntry).where(AuditEntry.command == "EditContact"))).first() is None


async def test_an_unknown_field_lists_the_fields(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob Stone")
    with pytest.raises(InvalidInput, match=r"I can't edit “colour”\. The fields: name, email, phone, organisation"):
        await edit(core, ana, bob, "colour", "red")


async def test_an_email_already_in_the_bank_is_refused(core, make):
    ana = await make.user()
    await make.contact(ana, "Bob Stone", email="bob@acme.com")
    carol = await make.contact(ana, "Carol", email="carol@acme.com")
    with pytest.raises(Conflict, match="Bob Stone already has the email bob@acme.com"):
        await edit(core, ana, carol, "email", "BOB@acme.com")
    assert (await row(core, carol.id)).email == "carol@acme.com"


async def test_undo_puts_the_previous_values_back(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme")
    renamed = await edit(core, ana, bob, "name", "Robert Stone")
    moved = await edit(core, ana, bob, "org", "Globex")
    priced = await edit(core, ana, bob, "past business", "12k EUR")
    for done in (priced, moved, renamed):
        await core.execute(UndoContactEdit(Actor(ana.id), ContactRef(id=bob.id), done.edit_id))
    stored = await row(core, bob.id)
    assert (stored.name, stored.organisation, stored.past_business, stored.past_business_currency) == (
        "Bob Stone",
        "Acme",
        Decimal("0.00"),
        None,
    )


async def test_undo_says_what_came_back_and_works_once(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com")
    done = await edit(core, ana, bob, "email", "robert@stone.io")
    undone = await core.execute(UndoContactEdit(Actor(ana.id), ContactRef(id=bob.id), done.edit_id))
    assert undone.message == "↩ Undone: Bob Stone's email is bob@acme.com again."
    with pytest.raises(InvalidInput, match="undone already"):
        await core.execute(UndoContactEdit(Actor(ana.id), ContactRef(id=bob.id), done.edit_id))


async def test_warmness_crossing_the_threshold_queues_the_sync_and_undo_cools_it(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob Stone", warmness=2)
    warmed = await edit(core, ana, bob, "warmness", "hot")
    assert warmed.sync_queued and (await row(core, bob.id)).warmness == 5
    await core.execute(UndoContactEdit(Actor(ana.id), ContactRef(id=bob.id), warmed.edit_id))
    assert (await row(core, bob.id)).warmness == 2
    async with core.sessions() as session:
        events = (await session.execute(select(OutboxMessage.payload))).scalars().all()
    assert [e["event"] for e in events] == ["ContactWarmed"]


async def test_only_ones_own_contacts_and_edits(core, make):
    ana, zoe = await make.user("Ana"), await make.user("Zoe")
    bob = await make.contact(ana, "Bob Stone")
    with pytest.raises(NotFound):
        await edit(core, zoe, bob, "name", "Hijacked")
    done = await edit(core, ana, bob, "name", "Robert")
    zoes = await make.contact(zoe, "Bob Stone")
    with pytest.raises(InvalidInput, match="can't be undone"):
        await core.execute(UndoContactEdit(Actor(zoe.id), ContactRef(id=zoes.id), done.edit_id))
    shown = await core.execute(ShowContact(Actor(ana.id), ContactRef(id=bob.id)))
    assert shown.contact.name == "Robert"


async def test_an_edit_is_audited_without_the_value(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob Stone")
    await edit(core, ana, bob, "email", "secret@stone.io")
    async with core.sessions() as session:
        [entry] = (await session.execute(select(AuditEntry).where(AuditEntry.command == "EditContact"))).scalars()
    assert entry.contact_ids == [bob.id] and "secret" not in repr(entry.__dict__)


@pytest.mark.parametrize(
    "field, typed, column, cleared",
    [
        ("phone", "-", "phone", None),
        ("email", "none", "email", None),
        ("org", "None", "organisation", None),
        ("title", "-", "title", None),
        ("linkedin", "-", "linkedin_url", None),
        ("notes", "none", "notes", None),
        ("past business", "-", "past_business", Decimal("0.00")),
    ],
)
async def test_a_dash_or_none_clears_an_optional_field_and_undo_brings_it_back(
    core, make, field, typed, column, cleared
):
    ana = await make.user()
    bob = await make.contact(
        ana,
        "Bob Stone",
        email="bob@acme.com",
        phone="07700 900123",
        organisation="Acme",
        title="CTO",
        linkedin_url="https://linkedin.com/in/bob",
        notes="Met in Lisbon",
    )
    await edit(core, ana, bob, "past business", "12k EUR")
    before = getattr(await row(core, bob.id), column)
    done = await edit(core, ana, bob, field, typed)
    assert getattr(await row(core, bob.id), column) == cleared
    assert "cleared" in done.message or "past business is now 0.00" in done.message
    await core.execute(UndoContactEdit(Actor(ana.id), ContactRef(id=bob.id), done.edit_id))
    assert getattr(await row(core, bob.id), column) == before


async def test_the_name_and_warmness_cannot_be_cleared(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob Stone", warmness=3)
    with pytest.raises(InvalidInput, match="The name can't be empty|is not"):
        await edit(core, ana, bob, "name", "")
    with pytest.raises(InvalidInput, match="What warmness"):
        await edit(core, ana, bob, "warmness", "-")
    stored = await row(core, bob.id)
    assert (stored.name, stored.warmness) == ("Bob Stone", 3)


async def test_several_fields_in_one_edit_are_undone_together(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme", warmness=1)
    command = EditContact(
        Actor(ana.id),
        ContactRef(id=bob.id),
        "email",
        "robert@globex.com",
        more_fields=(("organisation", "Globex"), ("warmness", "3"), ("past_business", "12000 EUR"), ("phone", "")),
    )
    done = await core.execute(command)
    assert done.message == (
        "Bob Stone: email is now robert@globex.com, organisation is now Globex, warmness is now 3, "
        "past business is now 12,000.00 EUR and phone cleared."
    )
    stored = await row(core, bob.id)
    assert (stored.email, stored.organisation, stored.warmness, stored.past_business_currency) == (
        "robert@globex.com",
        "Globex",
        3,
        "EUR",
    )
    undone = await core.execute(UndoContactEdit(Actor(ana.id), ContactRef(id=bob.id), done.edit_id))
    assert undone.message == (
        "↩ Undone: Bob Stone's email, organisation, warmness, past business and phone are as they were."
    )
    stored = await row(core, bob.id)
    assert (stored.email, stored.organisation, stored.warmness, stored.past_business) == (
        "bob@acme.com",
        "Acme",
        1,
        Decimal("0.00"),
    )
    async with core.sessions() as session:
        audited = (await session.execute(select(AuditEntry.command).order_by(AuditEntry.id))).scalars().all()
    assert audited[-2:] == ["EditContact", "UndoContactEdit"]


async def test_one_bad_value_among_several_changes_nothing(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", title="CTO")
    command = EditContact(
        Actor(ana.id), ContactRef(id=bob.id), "title", "CFO", more_fields=(("email", "not-an-email"),)
    )
    with pytest.raises(InvalidInput, match="not a valid email"):
        await core.execute(command)
    stored = await row(core, bob.id)
    assert (stored.title, stored.email) == ("CTO", "bob@acme.com")


async def test_a_refused_value_names_its_field(core, make):
    ana = await make.user()
    await make.contact(ana, "Bob Stone", email="bob@acme.com")
    carol = await make.contact(ana, "Carol", email="carol@acme.com")
    command = EditContact(
        Actor(ana.id), ContactRef(id=carol.id), "title", "CFO", more_fields=(("email", "bob@acme.com"),)
    )
    with pytest.raises(Conflict) as refused:
        await core.execute(command)
    assert refused.value.field == "email"


async def test_sector_and_country_are_edited_shown_by_name_cleared_and_undone(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob Stone")
    placed = await core.execute(
        EditContact(Actor(ana.id), ContactRef(id=bob.id), "country", "españa", more_fields=(("sector", "Fintech"),))
    )
    assert placed.message == "Bob Stone: country is now Spain and sector is now Fintech."
    assert (placed.contact.country, placed.contact.country_name, placed.contact.sector) == ("ES", "Spain", "Fintech")
    moved = await edit(core, ana, bob, "country", "PT")
    assert moved.message == "Bob Stone: country is now Portugal."
    cleared = await edit(core, ana, bob, "sector", "-")
    assert cleared.message == "Bob Stone: sector cleared."
    assert ((await row(core, bob.id)).sector, (await row(core, bob.id)).country) == (None, "PT")
    undone = await core.execute(UndoContactEdit(Actor(ana.id), ContactRef(id=bob.id), cleared.edit_id))
    assert undone.message == "↩ Undone: Bob Stone's sector is Fintech again."
    undone = await core.execute(UndoContactEdit(Actor(ana.id), ContactRef(id=bob.id), moved.edit_id))
    assert undone.message == "↩ Undone: Bob Stone's country is Spain again."
    emptied = await edit(core, ana, bob, "country", "none")
    assert emptied.message == "Bob Stone: country cleared."
    stored = await row(core, bob.id)
    assert (stored.sector, stored.country) == ("Fintech", None)
