"""The scheduler's learning beat: every hour it asks the core whether tonight's fit of the method rates is due."""

from datetime import timedelta

from sqlalchemy import func, select

from core.models import MethodFit
from scheduler.service import SchedulerService
from tests.conftest import outreach_history


async def fits(core) -> list[tuple[str, int]]:
    async with core.reading() as session:
        return [
            (f.kind, f.outreach) for f in (await session.execute(select(MethodFit).order_by(MethodFit.id))).scalars()
        ]


async def test_the_beat_refits_the_method_rates_once_a_night(core, at, dispatcher, make, clock):
    ana = await make.user("Ana")
    at("2026-11-24 12:00", "UTC")
    await outreach_history(core, clock, make, ana, "Fintech", "email", contacts=3, meetings=1)
    service = SchedulerService(dispatcher, interval_seconds=3600)
    await service.start()
    try:
        assert service.jobs["learning"] == timedelta(hours=1)
    finally:
        await service.stop()
    await service.learning()
    assert await fits(core) == [("nightly", 3)]  # none yet since last night's 02:00 UTC: fitted now
    at("2026-11-25 01:00", "UTC")
    await service.learning()
    assert await fits(core) == [("nightly", 3)]
    at("2026-11-25 02:00", "UTC")
    await service.learning()
    at("2026-11-25 03:00", "UTC")
    await service.learning()
    assert await fits(core) == [("nightly", 3), ("nightly", 3)]
    async with core.reading() as session:
        assert await session.scalar(select(func.max(MethodFit.fitted_at))) == clock.now() - timedelta(hours=1)
