"""Users, their chat accounts, and their settings."""

from datetime import time

import pytest

from core.command import Actor
from core.errors import Conflict, InvalidInput, UnknownUser
from core.users.commands import CreateUser, LinkChatIdentity, ListUsers, ShowSettings, UpdateSettings


async def test_a_new_user_gets_the_default_settings(core):
    user = await core.execute(CreateUser("Ana Lima", " Ana@Example.com "))
    assert (user.name, user.email, user.role, user.timezone) == (
        "Ana Lima",
        "ana@example.com",
        "consultant",
        "Europe/London",
    )
    assert (user.digest_time, user.working_days, user.is_golden_ticket) == (time(8, 30), (1, 2, 3, 4, 5), False)


async def test_a_user_may_be_golden_ticket_in_their_own_timezone(core):
    user = await core.execute(CreateUser("Kiri", "kiri@example.com", role="Golden Ticket", timezone="Pacific/Auckland"))
    assert (user.role, user.is_golden_ticket, user.timezone) == ("golden_ticket", True, "Pacific/Auckland")


async def test_an_email_already_taken_in_another_case_is_a_conflict(core):
    await core.execute(CreateUser("Ana", "ana@example.com"))
    with pytest.raises(Conflict, match="A user with the email ana@example.com already exists."):
        await core.execute(CreateUser("Ana again", "ANA@Example.COM"))
    assert len((await core.execute(ListUsers())).users) == 1


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"timezone": "Mars/Olympus"}, "“Mars/Olympus” is not a timezone I know. Try one like Europe/London."),
        ({"role": "admin"}, "The role must be one of: consultant, golden_ticket."),
        ({"email": "nope"}, "“nope” is not a valid email address."),
        ({"email": ""}, "A user needs an email address."),
        ({"name": " "}, "The name can't be empty."),
    ],
)
async def test_a_bad_new_user_is_refused(core, fields, message):
    command = CreateUser(**{"name": "Ana", "email": "ana@example.com", **fields})
    with pytest.raises(InvalidInput) as caught:
        await core.execute(command)
    assert str(caught.value) == message
    assert (await core.execute(ListUsers())).users == ()


async def test_a_linked_chat_account_identifies_its_user(core, make):
    ana = await make.user("Ana", email="ana@example.com")
    linked = await core.execute(LinkChatIdentity(" ANA@example.com", "slack", "U123", dm_channel="D9"))
    assert linked.id == ana.id
    assert (await core.identify("slack", "U123")).id == ana.id


async def test_a_user_may_link_several_platforms(core, make):
    ana = await make.user("Ana", email="ana@example.com")
    await core.execute(LinkChatIdentity("ana@example.com", "slack", "U123"))
    await core.execute(LinkChatIdentity("ana@example.com", "telegram", "555"))
    assert {(await core.identify(p, x)).id for p, x in (("slack", "U123"), ("telegram", "555"))} == {ana.id}


async def test_relinking_a_chat_account_moves_it_to_the_new_user(core, make):
    await make.user("Ana", email="ana@example.com")
    ben = await make.user("Ben", email="ben@example.com")
    await core.execute(LinkChatIdentity("ana@example.com", "slack", "U123"))
    await core.execute(LinkChatIdentity("ben@example.com", "slack", "U123"))
    assert (await core.identify("slack", "U123")).id == ben.id


async def test_an_unlinked_chat_account_is_an_unknown_user(core, make):
    await make.user("Ana", email="ana@example.com")
    await core.execute(LinkChatIdentity("ana@example.com", "slack", "U123"))
    with pytest.raises(UnknownUser, match="You are not a Pipedriven user yet"):
        await core.identify("telegram", "U123")


async def test_linking_an_email_nobody_has_is_an_unknown_user(core):
    with pytest.raises(UnknownUser, match="Ask an admin to run `pipedriven users add YOUR_EMAIL`"):
        await core.execute(LinkChatIdentity("ghost@example.com", "slack", "U1"))


async def test_user_by_email_finds_the_user_or_says_there_is_none(core, make):
    ana = await make.user("Ana", email="ana@example.com")
    assert (await core.user_by_email(" ANA@example.com ")).id == ana.id
    with pytest.raises(UnknownUser, match="There is no Pipedriven user with the email ghost@example.com."):
        await core.user_by_email("ghost@example.com")


async def test_show_settings(core, make):
    ana = await make.user("Ana", timezone="America/New_York")
    shown = await core.execute(ShowSettings(Actor(ana.id)))
    assert (shown.user.timezone, shown.user.digest_time, shown.user.working_days) == (
        "America/New_York",
        time(8, 30),
        (1, 2, 3, 4, 5),
    )


async def test_update_settings_saves_and_says_what_changed(core, make):
    ana = await make.user("Ana")
    result = await core.execute(
        UpdateSettings(Actor(ana.id), digest_time=time(7, 45, 30), timezone="Asia/Tokyo", working_days=(5, 1, 3, 1))
    )
    assert result.message == "Saved: timezone Asia/Tokyo; digest at 07:45; working days Mon, Wed, Fri."
    shown = (await core.execute(ShowSettings(Actor(ana.id)))).user
    assert (shown.timezone, shown.digest_time, shown.working_days) == ("Asia/Tokyo", time(7, 45), (1, 3, 5))


async def test_update_settings_keeps_what_is_not_given(core, make):
    ana = await make.user("Ana")
    result = await core.execute(UpdateSettings(Actor(ana.id), working_days=(6, 7)))
    assert result.message == "Saved: working days Sat, Sun."
    assert (result.user.timezone, result.user.digest_time) == ("Europe/London", time(8, 30))


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"timezone": "Europe/Londres"}, "“Europe/Londres” is not a timezone I know."),
        ({"working_days": ()}, "Working days must name at least one day, Monday to Sunday."),
        ({"working_days": (1, 8)}, "Working days must name at least one day, Monday to Sunday."),
        ({"working_days": (0,)}, "Working days must name at least one day, Monday to Sunday."),
    ],
)
async def test_bad_settings_are_refused_and_nothing_changes(core, make, fields, message):
    ana = await make.user("Ana")
    with pytest.raises(InvalidInput, match=message):
        await core.execute(UpdateSettings(Actor(ana.id), digest_time=time(6, 0), **fields))
    shown = (await core.execute(ShowSettings(Actor(ana.id)))).user
    assert (shown.timezone, shown.digest_time, shown.working_days) == ("Europe/London", time(8, 30), (1, 2, 3, 4, 5))


async def test_settings_of_an_unknown_user_say_so(core):
    with pytest.raises(UnknownUser):
        await core.execute(ShowSettings(Actor(404)))
