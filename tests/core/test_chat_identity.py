"""Linking a chat account to a user by email, and the platform's timezone filling in a default one."""

import pytest

from core.command import Actor
from core.errors import UnknownUser
from core.users.commands import LinkChatIdentity, UpdateSettings


async def test_linking_sets_the_platform_timezone_when_the_user_has_the_default(core, make):
    ana = await make.user("Ana", email="ana@example.com")
    linked = await core.execute(LinkChatIdentity("ANA@example.com", "slack", "U1", timezone="Asia/Tokyo"))
    assert linked.timezone == "Asia/Tokyo"
    assert (await core.identify("slack", "U1")).id == ana.id


async def test_linking_keeps_a_timezone_the_user_chose(core, make):
    ana = await make.user("Ana", email="ana@example.com")
    await core.execute(UpdateSettings(Actor(ana.id), timezone="Europe/Paris"))
    linked = await core.execute(LinkChatIdentity("ana@example.com", "slack", "U1", timezone="Asia/Tokyo"))
    assert linked.timezone == "Europe/Paris"


async def test_an_unknown_platform_timezone_is_ignored(core, make):
    await make.user("Ana", email="ana@example.com")
    linked = await core.execute(LinkChatIdentity("ana@example.com", "slack", "U1", timezone="Mars/Olympus"))
    assert linked.timezone == "Europe/London"


async def test_an_email_of_no_user_links_nothing(core):
    with pytest.raises(UnknownUser):
        await core.execute(LinkChatIdentity("nobody@example.com", "slack", "U9", timezone="Asia/Tokyo"))
    with pytest.raises(UnknownUser):
        await core.identify("slack", "U9")
