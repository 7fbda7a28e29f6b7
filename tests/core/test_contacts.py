"""Adding, changing, finding and naming contacts."""

from datetime import timedelta

import pytest

from core.campaigns.commands import AddToCampaign
from core.command import Actor, CampaignRef, ContactRef
from core.contacts.commands import AddContact, FindContacts, ShowContact, UpdateContact
from core.errors import AmbiguousContact, Conflict, InvalidInput, NotFound
from core.feed.commands import TodaySuggestions
from core.outreach.commands import LogOutreach, SetFollowUp

# --- add ------------------------------------------------------------------------------------------------


async def test_add_contact_keeps_the_details_and_says_so(core, make):
    ana = await make.user("Ana")
    result = await core.execute(
        AddContact(Actor(ana.id), "  Bob   Stone ", email="Bob@Acme.COM", organisation="Acme", title="CFO")
    )
    assert result.message == "Added Bob Stone (Acme) to your bank."
    assert (result.contact.name, result.contact.email, result.contact.owner_id) == ("Bob Stone", "bob@acme.com", ana.id)


async def test_add_contact_refuses_a_bad_email(core, make):
    ana = await make.user()
    with pytest.raises(InvalidInput, match="“not-an-email” is not a valid email address"):
        await core.execute(AddContact(Actor(ana.id), "Bob", email="not-an-email"))


async def test_add_contact_refuses_an_empty_name(core, make):
    ana = await make.user()
    with pytest.raises(InvalidInput, match="The name can't be empty"):
        await core.execute(AddContact(Actor(ana.id), "   "))


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("07700 900123", "+447700900123"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("0044 20 7946 0958", "+442079460958"),
    ],
)
async def test_add_contact_normalises_the_phone_to_e164_with_gb_by_default(core, make, typed, stored):
    ana = await make.user()
    bob = await make.contact(ana, "Bob", phone=typed)
    assert bob.phone == stored


async def test_add_contact_refuses_an_unreadable_phone(core, make):
    ana = await make.user()
    with pytest.raises(InvalidInput, match="“12” is not a phone number I can read"):
        await make.contact(ana, "Bob", phone="12")


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"warmness": 6}, "Warmness goes from 0 to 5."),
        ({"past_business": -5}, "Past business must be a positive amount."),
        ({"title": "x" * 201}, "The title is too long (201 characters, at most 200)."),
    ],
)
async def test_add_contact_refuses_out_of_range_details(core, make, fields, message):
    ana = await make.user()
    with pytest.raises(InvalidInput) as caught:
        await core.execute(AddContact(Actor(ana.id), "Bob", **fields))
    assert str(caught.value) == message
    assert (await core.execute(FindContacts(Actor(ana.id), "bob"))).contacts == ()


async def test_same_email_twice_in_one_bank_is_a_conflict(core, make):
    ana = await make.user()
    await make.contact(ana, "Bob Stone", email="bob@acme.com")
    with pytest.raises(Conflict, match="Bob Stone already has the email bob@acme.com in your bank"):
        await make.contact(ana, "Robert Stone", email="BOB@acme.com")


async def test_same_email_in_another_users_bank_is_fine(core, make):
    ana, zoe = await make.user("Ana"), await make.user("Zoe")
    await make.contact(ana, "Bob", email="bob@acme.com")
    bob_for_zoe = await make.contact(zoe, "Bob", email="bob@acme.com")
    assert bob_for_zoe.owner_id == zoe.id


# --- update ---------------------------------------------------------------------------------------------


async def test_update_changes_only_the_fields_given(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob", email="bob@acme.com", organisation="Acme", phone="07700 900123")
    result = await core.execute(UpdateContact(Actor(ana.id), ContactRef(id=bob.id), title="CFO"))
    assert result.message == "Updated Bob."
    c = result.contact
    assert (c.name, c.email, c.organisation, c.phone, c.title) == (
        "Bob",
        "bob@acme.com",
        "Acme",
        "+447700900123",
        "CFO",
    )


async def test_update_to_an_email_already_in_the_bank_is_a_conflict(core, make):
    ana = await make.user()
    await make.contact(ana, "Bob", email="bob@acme.com")
    carol = await make.contact(ana, "Carol", email="carol@acme.com")
    with pytest.raises(Conflict, match="Bob already has the email bob@acme.com"):
        await core.execute(UpdateContact(Actor(ana.id), ContactRef(id=carol.id), email="bob@acme.com"))
    shown = await core.execute(ShowContact(Actor(ana.id), ContactRef(id=carol.id)))
    assert shown.contact.email == "carol@acme.com"


async def test_update_may_keep_its_own_email(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob", email="bob@acme.com")
    result = await core.execute(UpdateContact(Actor(ana.id), ContactRef(id=bob.id), email="BOB@acme.com", name="Bobby"))
    assert (result.contact.name, result.contact.email) == ("Bobby", "bob@acme.com")


# --- find -----------------------------------------------------------------------------------------------


async def _names(core, user, text):
    return [k.name for k in (await core.execute(FindContacts(Actor(user.id), text))).contacts]


async def test_find_matches_name_email_or_organisation_ignoring_case(core, make):
    ana = await make.user()
    await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Initech")
    await make.contact(ana, "Carol Acme-Smith")
    await make.contact(ana, "Dan", organisation="ACME Ltd")
    await make.contact(ana, "Eve", organisation="Globex")
    assert await _names(core, ana, "acme") == ["Bob Stone", "Carol Acme-Smith", "Dan"]
    assert await _names(core, ana, "INITECH") == ["Bob Stone"]
    assert await _names(core, ana, "stone") == ["Bob Stone"]


async def test_find_searches_only_your_own_bank(core, make):
    ana, zoe = await make.user(), await make.user()
    await make.contact(zoe, "Bob Stone")
    assert await _names(core, ana, "bob") == []


async def test_find_treats_like_wildcards_literally(core, make):
    ana = await make.user()
    await make.contact(ana, "Bob", organisation="50% Capital")
    await make.contact(ana, "Carol", organisation="500 Ventures")
    await make.contact(ana, "Dan_Smith")
    await make.contact(ana, "Dan Smith")
    assert await _names(core, ana, "50%") == ["Bob"]
    assert await _names(core, ana, "%") == ["Bob"]
    assert await _names(core, ana, "dan_") == ["Dan_Smith"]


async def test_find_lists_warm_contacts_first(core, make):
    ana = await make.user()
    await make.contact(ana, "Ann Acme", organisation="Acme")
    await make.contact(ana, "Zed Acme", organisation="Acme", warmness=5)
    assert await _names(core, ana, "acme") == ["Zed Acme", "Ann Acme"]


async def test_find_with_nothing_to_look_for_asks_what(core, make):
    ana = await make.user()
    with pytest.raises(InvalidInput, match="Find what?"):
        await core.execute(FindContacts(Actor(ana.id), "  "))


# --- show -----------------------------------------------------------------------------------------------


async def test_show_contact_gives_recent_activity_follow_ups_and_campaigns(core, make, campaign, clock):
    ana = await make.user()
    bob = await make.contact(ana, "Bob", email="bob@acme.com")
    camp = await campaign("Fintech")
    await core.execute(AddToCampaign(Actor(ana.id), CampaignRef(id=camp.id), (bob.id,)))
    await core.execute(LogOutreach(Actor(ana.id), ContactRef(id=bob.id), "call", note="left a voicemail"))
    await core.execute(SetFollowUp(Actor(ana.id), ContactRef(id=bob.id), clock.now() + timedelta(days=3), "chase"))
    detail = await core.execute(ShowContact(Actor(ana.id), ContactRef(text="bob@acme.com")))
    assert detail.contact.id == bob.id
    assert [(a.kind, a.note) for a in detail.recent_activities] == [("call", "left a voicemail")]
    assert [f.note for f in detail.open_follow_ups] == ["chase"]
    assert detail.campaigns == ("Fintech",)


# --- naming a contact -----------------------------------------------------------------------------------


async def test_a_row_number_means_that_row_of_the_last_suggestions(core, make):
    ana = await make.user()
    await make.contact(ana, "Bob", warmness=1)
    carol = await make.contact(ana, "Carol", warmness=3)
    today = await core.execute(TodaySuggestions(Actor(ana.id)))
    assert [s.contact.name for s in today.items] == ["Carol", "Bob"]
    shown = await core.execute(ShowContact(Actor(ana.id), ContactRef.of("1")))
    assert shown.contact.id == carol.id


async def test_a_row_number_means_that_row_of_the_last_search(core, make):
    ana = await make.user()
    await make.contact(ana, "Bob Acme")
    carol = await make.contact(ana, "Carol Acme")
    await core.execute(TodaySuggestions(Actor(ana.id)))
    await core.execute(FindContacts(Actor(ana.id), "acme"))
    result = await core.execute(LogOutreach(Actor(ana.id), ContactRef.of("2"), "linkedin"))
    assert result.contact.id == carol.id


async def test_each_platform_remembers_its_own_last_list(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob Acme")
    carol = await make.contact(ana, "Carol Globex")
    await core.execute(FindContacts(Actor(ana.id, "slack"), "acme"))
    await core.execute(FindContacts(Actor(ana.id, "telegram"), "globex"))
    on_slack = await core.execute(ShowContact(Actor(ana.id, "slack"), ContactRef.of("1")))
    on_telegram = await core.execute(ShowContact(Actor(ana.id, "telegram"), ContactRef.of("1")))
    assert (on_slack.contact.id, on_telegram.contact.id) == (bob.id, carol.id)


async def test_a_row_number_without_a_list_is_not_found(core, make):
    ana = await make.user()
    await make.contact(ana, "Bob")
    with pytest.raises(NotFound, match="There is no row 1 in your last list"):
        await core.execute(ShowContact(Actor(ana.id), ContactRef.of("1")))


async def test_a_row_number_past_the_end_of_the_list_is_not_found(core, make):
    ana = await make.user()
    await make.contact(ana, "Bob Acme")
    await core.execute(FindContacts(Actor(ana.id), "acme"))
    with pytest.raises(NotFound, match="There is no row 2 in your last list"):
        await core.execute(ShowContact(Actor(ana.id), ContactRef.of("2")))
    with pytest.raises(NotFound, match="There is no row 0"):
        await core.execute(ShowContact(Actor(ana.id), ContactRef.of("0")))


async def test_an_email_names_a_contact_whatever_its_case(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob", email="bob@acme.com")
    shown = await core.execute(ShowContact(Actor(ana.id), ContactRef.of(" BOB@Acme.com ")))
    assert shown.contact.id == bob.id


async def test_a_name_fragment_names_the_one_contact_it_matches(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob Stone")
    await make.contact(ana, "Carol King")
    shown = await core.execute(ShowContact(Actor(ana.id), ContactRef.of("stone")))
    assert shown.contact.id == bob.id


async def test_an_exact_name_wins_over_longer_names_containing_it(core, make):
    ana = await make.user()
    ann = await make.contact(ana, "Ann")
    await make.contact(ana, "Anne Hathaway")
    shown = await core.execute(ShowContact(Actor(ana.id), ContactRef.of("ann")))
    assert shown.contact.id == ann.id


async def test_a_fragment_matching_several_contacts_is_ambiguous_with_candidates(core, make):
    ana = await make.user()
    bob = await make.contact(ana, "Bob Stone", organisation="Acme")
    rob = await make.contact(ana, "Robert Stone")
    with pytest.raises(AmbiguousContact) as caught:
        await core.execute(ShowContact(Actor(ana.id), ContactRef.of("stone")))
    assert str(caught.value) == "“stone” matches 2 contacts. Which one?"
    assert [(c.contact_id, c.label) for c in caught.value.candidates] == [
        (bob.id, "Bob Stone (Acme)"),
        (rob.id, "Robert Stone"),
    ]


async def test_a_name_nobody_has_is_not_found(core, make):
    ana, zoe = await make.user(), await make.user()
    await make.contact(zoe, "Bob Stone")
    with pytest.raises(NotFound, match="No contact in your bank matches “bob”"):
        await core.execute(ShowContact(Actor(ana.id), ContactRef.of("bob")))


async def test_an_email_nobody_has_is_not_found(core, make):
    ana = await make.user()
    with pytest.raises(NotFound, match="No contact in your bank matches “bob@acme.com”"):
        await core.execute(ShowContact(Actor(ana.id), ContactRef.of("bob@acme.com")))


async def test_an_empty_reference_asks_which_contact(core, make):
    ana = await make.user()
    with pytest.raises(InvalidInput, match="Which contact?"):
        await core.execute(ShowContact(Actor(ana.id), ContactRef.of("  ")))


async def test_an_id_that_no_longer_exists_is_not_found(core, make):
    ana = await make.user()
    with pytest.raises(NotFound, match="That contact is not in your bank."):
        await core.execute(ShowContact(Actor(ana.id), ContactRef(id=999_999)))


async def test_a_fragment_matching_many_contacts_offers_five_and_does_not_understate_the_count(core, make):
    ana = await make.user()
    for n in range(7):
        await make.contact(ana, f"Stone {n}")
    with pytest.raises(AmbiguousContact) as caught:
        await core.execute(ShowContact(Actor(ana.id), ContactRef.of("stone")))
    assert str(caught.value) == "“stone” matches more than 5 contacts. Which one?"
    assert [c.label for c in caught.value.candidates] == [f"Stone {n}" for n in range(5)]
