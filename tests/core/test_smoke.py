from core.command import Actor, ContactRef
from core.feed.commands import TodaySuggestions
from core.outreach.commands import LogOutreach


async def test_log_outreach_updates_last_contacted(core, make, clock):
    ana = await make.user("Ana")
    bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme")
    result = await core.execute(LogOutreach(Actor(ana.id), ContactRef(id=bob.id), "linkedin"))
    assert result.contact.last_contacted_at == clock.now()
    assert "LinkedIn logged" in result.message
    today = await core.execute(TodaySuggestions(Actor(ana.id)))
    assert bob.id not in [s.contact.id for s in today.items]
