"""Learning which outreach method leads to a meeting, for whom: the estimate, the fit, the ranking's use of it."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.cadences.commands import StartCadence
from core.command import Actor, ContactRef
from core.errors import NotFound
from core.feed.commands import TodaySuggestions
from core.learning import model
from core.learning.commands import AdviseMethod, RefitMethodRates, ShowMethodRates
from core.models import MethodFit, MethodRate
from core.outreach.commands import LogOutreach, RequestMeeting
from tests.conftest import contact_in_sector, fintech_prefers_email, outreach_history


@pytest.fixture
async def ana(make):
    return await make.user("Ana")


@pytest.fixture
async def bob(make):
    return await make.user("Bob")


async def history(core, clock, make, owner, sector, method, **counts):
    return await outreach_history(core, clock, make, owner, sector, method, **counts)


async def new_contact(core, make, owner, name, **fields):
    return await contact_in_sector(core, make, owner, name, **fields)


def test_one_meeting_out_of_one_outreach_does_not_beat_thirty_out_of_a_hundred():
    counts = [
        model.Count(model.ALL, "", "email", 1, 1, 1),
        model.Count(model.ALL, "", "linkedin", 100, 30, 80),
    ]
    rates = {r.method: r for r in model.fit(counts, total_outreach=1000, total_meetings=100)}
    assert rates["email"].rate < rates["linkedin"].rate
    # Shrunk toward the team's 10%: one lucky email moves it a little, not to 100%.
    assert 0.10 < rates["email"].rate < 0.2
    assert rates["linkedin"].rate == pytest.approx((30 + 20 * model.team_rate(1000, 100)) / 120)
    # The interval says how sure: the single email's is wide, the hundred LinkedIn's narrow.
    assert rates["email"].high - rates["email"].low > 1.5 * (rates["linkedin"].high - rates["linkedin"].low)
    assert rates["linkedin"].low < rates["linkedin"].rate < rates["linkedin"].high


def test_without_data_every_method_is_the_teams_rate_and_worth_no_points():
    chance = model.chances(model.team_rate(0, 0), {}, {"sector": "fintech"})
    assert set(chance.values()) == {0.5}
    assert model.best(chance) == "linkedin"  # the buttons' usual order
    assert model.points(chance["linkedin"], 0.5) == 0


async def test_learn_stores_a_fit_with_its_date_and_the_data_it_saw(core, clock, make, ana, bob):
    await history(core, clock, make, ana, "Fintech", "email", contacts=3, meetings=2)
    await history(core, clock, make, bob, "Fintech", "linkedin", contacts=4, meetings=1)
    recent = await make.contact(ana, "Recent")
    # Its 14 days are not over: neither a success nor a failure yet.
    await core.execute(LogOutreach(Actor(ana.id), ContactRef(id=recent.id), "call"))
    result = await core.execute(RefitMethodRates())
    fit = result.fit
    assert (fit.fitted_at, fit.kind, fit.window_days) == (clock.now(), "on_demand", 14)
    assert (fit.outreach, fit.meetings, fit.contacts, fit.users) == (7, 3, 7, 2)
    assert fit.data_from == clock.now() - timedelta(days=30)
    async with core.sessions() as session:
        stored = (await session.execute(select(MethodFit))).scalars().all()
        rates = (await session.execute(select(MethodRate))).scalars().all()
    assert [(f.id, f.outreach, f.meetings) for f in stored] == [(fit.fit_id, 7, 3)]
    cells = {(r.dimension, r.label, r.method): (r.outreach, r.meetings) for r in rates}
    assert cells[("all", "", "email")] == (3, 2)
    assert cells[("sector", "Fintech", "linkedin")] == (4, 1)
    assert cells[("warmness", "cold", "email")] == (3, 2)
    assert ("step", "none", "linkedin") in cells
    # A second fit is stored beside the first; only the current fit keeps its rates.
    clock.advance(days=1)
    again = (await core.execute(RefitMethodRates())).fit
    async with core.sessions() as session:
        assert (await session.execute(select(MethodFit.id).order_by(MethodFit.id))).scalars().all() == [
            fit.fit_id,
            again.fit_id,
        ]
        assert {r.fit_id for r in (await session.execute(select(MethodRate))).scalars()} == {again.fit_id}


async def test_a_segment_of_fewer_than_three_contacts_keeps_no_rate_of_its_own(core, clock, make, ana):
    await history(core, clock, make, ana, "Rare trade", "email", contacts=2, meetings=2)
    await history(core, clock, make, ana, "Fintech", "email", contacts=3, meetings=0)
    await core.execute(RefitMethodRates())
    async with core.sessions() as session:
        sectors = {r.label for r in (await session.execute(select(MethodRate))).scalars() if r.dimension == "sector"}
    assert sectors == {"Fintech"}


async def feed(core, user):
    return [(s.contact.name, s.reason, s.method) for s in (await core.execute(TodaySuggestions(Actor(user.id)))).items]


async def test_a_cold_start_ranks_exactly_as_the_fixed_weights(core, clock, make, ana, log_at):
    """No fit, and a fit that saw nothing yet: the same rows, scores, reasons and buttons as the fixed ranking."""
    for n, (warmness, days) in enumerate([(0, None), (5, 40), (2, 3), (0, 90), (4, 10)]):
        contact = await new_contact(core, make, ana, f"C{n}", warmness=warmness, sector="Fintech")
        if days is not None:
            await log_at(ana, contact, days_ago=days)
    items = (await core.execute(TodaySuggestions(Actor(ana.id)))).items
    fixed = [(s.contact.name, s.score, s.reasons, s.method) for s in items]
    assert [m for *_, m in fixed] == [None] * 5
    await core.execute(RefitMethodRates())  # every outreach above is still in its window: nothing to learn from
    items = (await core.execute(TodaySuggestions(Actor(ana.id)))).items
    assert [(s.contact.name, s.score, s.reasons) for s in items] == [f[:3] for f in fixed]
    assert {s.method for s in items} == {None}  # the usual buttons


async def test_a_row_says_which_method_works_for_whom_and_ranks_by_it(core, clock, make, ana, bob):
    await fintech_prefers_email(core, clock, make, bob)
    retail = await new_contact(core, make, ana, "Rita", sector="Retail")
    fintech = await new_contact(core, make, ana, "Finn", sector="fintech ")
    plain = await make.contact(ana, "Paul")
    before = [name for name, *_ in await feed(core, ana)]
    assert before == ["Rita", "Finn", "Paul"]  # equal scores: the oldest contact first
    await core.execute(RefitMethodRates())
    rows = {name: (reason, method) for name, reason, method in await feed(core, ana)}
    assert rows["Finn"] == (
        "never contacted · Email led to a meeting 1.6× more often than LinkedIn for Fintech contacts",
        "email",
    )
    assert rows["Rita"] == (
        "never contacted · LinkedIn led to a meeting 1.6× more often than email for Retail contacts",
        "linkedin",
    )
    assert rows["Paul"] == ("never contacted", None)  # nothing learned about him: the usual buttons
    # Both segments lift their contact above the one the rates know nothing about.
    assert [name for name, *_ in await feed(core, ana)][-1] == "Paul"
    # Another user's history teaches the rates, but no row ever shows another user's contact.
    assert {name for name, *_ in await feed(core, ana)} == {"Rita", "Finn", "Paul"}
    assert retail.owner_id == fintech.owner_id == plain.owner_id == ana.id


async def test_the_method_most_likely_to_work_next_for_one_contact(core, clock, make, ana, bob):
    await fintech_prefers_email(core, clock, make, bob)
    finn = await new_contact(core, make, ana, "Finn", sector="Fintech")
    before = await core.execute(AdviseMethod(Actor(ana.id), ContactRef(id=finn.id)))
    assert (before.method, before.chance, before.reason) == ("linkedin", None, None)
    await core.execute(RefitMethodRates())
    advice = await core.execute(AdviseMethod(Actor(ana.id), ContactRef(id=finn.id)))
    assert advice.method == "email"
    assert advice.reason == "Email led to a meeting 1.6× more often than LinkedIn for Fintech contacts"
    assert 0.4 < advice.chance < 0.8
    bobs = (await core.execute(TodaySuggestions(Actor(bob.id)))).items[0].contact
    with pytest.raises(NotFound):
        await core.execute(AdviseMethod(Actor(ana.id), ContactRef(id=bobs.id)))


async def test_the_nightly_fit_runs_once_a_night(core, clock, make, ana):
    await history(core, clock, make, ana, "Fintech", "email", contacts=3, meetings=1)
    clock.set(datetime(2026, 11, 24, 1, 30, tzinfo=UTC))
    first = (await core.execute(RefitMethodRates(nightly=True))).fit
    assert first is not None and first.kind == "nightly"  # the night of the 23rd had no fit
    clock.set(datetime(2026, 11, 24, 1, 59, tzinfo=UTC))
    assert (await core.execute(RefitMethodRates(nightly=True))).fit is None
    clock.set(datetime(2026, 11, 24, 2, 0, tzinfo=UTC))
    assert (await core.execute(RefitMethodRates(nightly=True))).fit is not None
    clock.set(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    assert (await core.execute(RefitMethodRates(nightly=True))).fit is None


async def test_the_table_of_rates_with_their_intervals(core, clock, make, ana, bob):
    assert (await core.execute(ShowMethodRates(Actor(ana.id)))).fit is None
    await fintech_prefers_email(core, clock, make, bob)
    await core.execute(RefitMethodRates())
    table = await core.execute(ShowMethodRates(Actor(ana.id)))
    assert [(r.segment, r.method, r.outreach, r.meetings) for r in table.rows] == [
        ("all", "email", 12, 5),
        ("all", "linkedin", 12, 5),
    ]
    by_sector = await core.execute(ShowMethodRates(Actor(ana.id), "sector"))
    fintech = {r.method: r for r in by_sector.rows if r.segment == "sector Fintech"}
    assert fintech["email"].rate > fintech["linkedin"].rate
    assert all(r.low < r.rate < r.high for r in by_sector.rows)


async def test_a_promising_contact_touched_yesterday_does_not_jump_the_list(core, clock, make, ana, bob, log_at):
    """The learned chance is an outreach's once the last one's window has closed: the day after a touch it is
    worth 1/14 of its points."""
    await fintech_prefers_email(core, clock, make, bob)
    finn = await new_contact(core, make, ana, "Finn", sector="Fintech")
    carl = await make.contact(ana, "Carl")
    await log_at(ana, finn, "linkedin", days_ago=1)
    await log_at(ana, carl, "linkedin", days_ago=3)
    await core.execute(RefitMethodRates())
    assert [name for name, *_ in await feed(core, ana)] == ["Carl", "Finn"]
    clock.advance(days=13)
    assert [name for name, *_ in await feed(core, ana)] == ["Finn", "Carl"]


async def test_an_outreach_on_a_cadence_counts_at_its_step(core, clock, make, ana, log_at):
    """Three contacts start the Warm intro cadence 20 days ago; each is reached twice on it (a meeting after the
    second touch of one of them); two contacts off any cadence are reached once."""
    now = clock.now()
    for n in range(3):
        contact = await make.contact(ana, f"On cadence {n}")
        clock.set(now - timedelta(days=40))
        await core.execute(StartCadence(Actor(ana.id), "Warm intro", contact=ContactRef(id=contact.id)))
        clock.set(now)
        await log_at(ana, contact, "linkedin", days_ago=39)
        await log_at(ana, contact, "email", days_ago=30)
        if n == 0:
            clock.set(now - timedelta(days=29))
            await core.execute(RequestMeeting(Actor(ana.id), ContactRef(id=contact.id)))
            clock.set(now)
    for n in range(3):
        await log_at(ana, await make.contact(ana, f"Off cadence {n}"), "call", days_ago=30)
    await core.execute(RefitMethodRates())
    async with core.sessions() as session:
        rates = (await session.execute(select(MethodRate).where(MethodRate.dimension == "step"))).scalars().all()
    assert {(r.value, r.method): (r.outreach, r.meetings) for r in rates} == {
        ("1", "linkedin"): (3, 0),
        ("2", "email"): (3, 1),
        ("none", "call"): (3, 0),
    }
