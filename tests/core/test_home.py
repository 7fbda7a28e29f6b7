"""The home overview: today's list, follow-ups due by the end of the user's day, and their own month."""

from datetime import UTC, datetime, timedelta

from core.command import Actor, ContactRef
from core.feed.commands import ShowHome
from core.outreach.commands import LogOutreach, RequestMeeting, SetFollowUp


async def test_home_shows_todays_list_due_follow_ups_and_only_the_users_own_month(core, make, clock):
    ana = await make.user("Ana", timezone="America/New_York")
    ben = await make.user("Ben")
    bob = await make.contact(ana, "Bob")
    cara = await make.contact(ana, "Cara")
    dan = await make.contact(ana, "Dan")
    theirs = await make.contact(ben, "Theirs")
    # 09:00 UTC is 04:00 in New York: a follow-up at 23:00 New York time is still due “today” for Ana.
    await core.execute(
        SetFollowUp(Actor(ana.id), ContactRef(id=cara.id), clock.now() + timedelta(hours=18), "call back")
    )
    await core.execute(SetFollowUp(Actor(ana.id), ContactRef(id=dan.id), clock.now() + timedelta(days=2)))
    await core.execute(LogOutreach(Actor(ana.id), ContactRef(id=bob.id), "email"))
    await core.execute(RequestMeeting(Actor(ana.id), ContactRef(id=bob.id)))
    await core.execute(LogOutreach(Actor(ben.id), ContactRef(id=theirs.id), "call"))

    home = await core.execute(ShowHome(Actor(ana.id, "slack")))

    assert [f.contact.name for f in home.follow_ups] == ["Cara"]
    assert home.follow_ups[0].follow_up.note == "call back"
    assert "Theirs" not in [s.contact.name for s in home.suggestions.items]
    total = home.month.total
    assert (total.outreach, total.meetings_requested, total.meetings_booked) == (1, 1, 0)
    assert home.month.since == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # midnight in New York
