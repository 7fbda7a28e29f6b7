"""Demo data: a few users, two live campaigns and ~500 contacts with a realistic outreach history.

Deterministic (seeded) so that a demo looks the same every time, with history placed relative to now.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from core.models import Activity, Campaign, CampaignContact, Contact, ContactPlan, FollowUp, Strategy, User
from core.service import Core

DEMO_USER_EMAIL = "ana@example.com"
USERS = [  # name, email, role, timezone, bank size
    ("Ana Silva", DEMO_USER_EMAIL, "consultant", "Europe/London", 300),
    ("Ben Okafor", "ben@example.com", "consultant", "Europe/London", 120),
    ("Marc Dubois", "marc@example.com", "consultant", "Europe/Paris", 80),
    ("Gita Patel", "gita@example.com", "golden_ticket", "Europe/London", 0),
]
FIRST = [
    "James",
    "Olivia",
    "Noah",
    "Amelia",
    "Liam",
    "Isla",
    "Mateo",
    "Sofia",
    "Arjun",
    "Chloé",
    "Lukas",
    "Freya",
    "Kwame",
    "Yuki",
    "Elena",
    "Omar",
    "Hannah",
    "Diego",
    "Priya",
    "Tomás",
    "Ingrid",
    "Wei",
    "Fatima",
    "Henrik",
    "Aoife",
    "Rafael",
    "Zara",
    "Nikolai",
    "Leila",
    "Jonas",
]
LAST = [
    "Smith",
    "Jones",
    "Müller",
    "García",
    "Okoye",
    "Tanaka",
    "Rossi",
    "Nowak",
    "Haddad",
    "Larsen",
    "O'Brien",
    "Kowalski",
    "Dubois",
    "Singh",
    "Andersson",
    "Costa",
    "Fischer",
    "Murphy",
    "Ivanova",
    "Chen",
]
ORGS = [
    "Acme Payments",
    "Northwind Bank",
    "Helios Energy",
    "BluePeak Capital",
    "Fjord Wind",
    "Kite Retail",
    "Monzo-ish Ltd",
    "Ledgerly",
    "Greenfield Solar",
    "Atlas Insurance",
    "Quanta Health",
    "Orbit Logistics",
    "Nimbus Software",
    "Tidal Power",
    "Cobalt Analytics",
    "Summit Partners",
    "Riverstone Foods",
    "Vela Robotics",
    "Harbor Freight Co",
    "Polar Hydrogen",
]
TITLES = [
    "CFO",
    "Head of Payments",
    "COO",
    "Partner",
    "VP Engineering",
    "Head of Procurement",
    "CEO",
    "Director of Operations",
    "Head of Sustainability",
    "CTO",
]
METHODS = ["linkedin", "linkedin", "email", "email", "call", "campaign_email", "referral", "conference"]


async def seed(core: Core, *, rng_seed: int = 42) -> bool:
    """Fill an empty database with demo data. Returns False (and changes nothing) if it has users already."""
    rng = random.Random(rng_seed)
    now = core.clock.now()
    async with core.sessions() as s, s.begin():
        if (await s.execute(select(func.count()).select_from(User))).scalar_one():
            return False
        users = [User(name=n, email=e, role=r, timezone=tz, digest_time=time(8, 30)) for n, e, r, tz, _ in USERS]
        s.add_all(users)
        await s.flush()
        gita = users[-1]
        fintech = Campaign(
            name="Fintech Q1",
            description="UK fintech leaders, payments and lending",
            sector="Fintech",
            theme="Payments",
            geography="UK",
            status="live",
            created_by=gita.id,
            start_date=(now - timedelta(days=20)).date(),
            end_date=(now + timedelta(days=70)).date(),
        )
        nordics = Campaign(
            name="Green Energy Nordics",
            description="Renewables in Norway, Sweden, Denmark",
            sector="Energy",
            theme="Renewables",
            geography="Nordics",
            status="live",
            created_by=gita.id,
            start_date=(now - timedelta(days=10)).date(),
            end_date=(now + timedelta(days=80)).date(),
        )
        retail = Campaign(
            name="Retail AI",
            description="AI in retail operations",
            sector="Retail",
            theme="AI",
            geography="Europe",
            status="draft",
            created_by=gita.id,
        )
        s.add_all([fintech, nordics, retail])
        await s.flush()
        contacts: list[Contact] = []
        for user, (_, _, _, _, size) in zip(users, USERS):
            seen = set()
            for i in range(size):
                first, last = rng.choice(FIRST), rng.choice(LAST)
                name = f"{first} {last}"
                org = rng.choice(ORGS)
                slug = f"{first}.{last}".lower().replace("'", "").replace("é", "e").replace("ü", "u").replace("á", "a")
                email = f"{slug}{i}@{org.split()[0].lower().replace('-', '')}.example"
                if email in seen:
                    continue
                seen.add(email)
                contacts.append(
                    Contact(
                        owner_id=user.id,
                        name=name,
                        email=email,
                        organisation=org,
                        title=rng.choice(TITLES),
                        phone=f"+4420{rng.randint(10_000_000, 99_999_999)}",
                        linkedin_url=f"https://www.linkedin.com/in/{slug}-{i}",
                        warmness=rng.choices([0, 1, 2, 3, 4, 5], weights=[30, 20, 20, 15, 10, 5])[0],
                        past_business=Decimal(rng.choice([0] * 8 + [5_000, 12_000, 40_000, 150_000])),
                        created_at=now - timedelta(days=200),
                        updated_at=now,
                    )
                )
        s.add_all(contacts)
        await s.flush()
        activities, memberships, follow_ups = [], [], []
        for k in contacts:
            camp = (fintech if rng.random() < 0.6 else nordics) if rng.random() < 0.06 else None
            if camp is not None:
                memberships.append(
                    CampaignContact(
                        campaign_id=camp.id,
                        contact_id=k.id,
                        added_by=gita.id,
                        outreach_method=rng.choice(["campaign_email", "linkedin"]),
                    )
                )
            touches = rng.choices([0, 1, 2, 3, 5], weights=[25, 30, 25, 12, 8])[0]
            last_touch: datetime | None = None
            for _ in range(touches):
                at = now - timedelta(days=rng.randint(2, 150), hours=rng.randint(0, 8))
                method = rng.choice(METHODS)
                in_campaign = camp is not None and camp.start_date is not None and at.date() >= camp.start_date
                campaign_id = camp.id if camp is not None and in_campaign else None
                activities.append(
                    Activity(
                        contact_id=k.id,
                        user_id=k.owner_id,
                        kind=method,
                        channel=method,
                        campaign_id=campaign_id,
                        occurred_at=at,
                        created_at=at,
                    )
                )
                last_touch = max(last_touch or at, at)
            k.last_contacted_at = last_touch
            if last_touch and rng.random() < 0.08:
                outcome = rng.choice(["meeting_requested", "meeting_booked"])
                at = last_touch + timedelta(hours=2)
                activities.append(
                    Activity(
                        contact_id=k.id,
                        user_id=k.owner_id,
                        kind="meeting",
                        channel=method,
                        campaign_id=activities[-1].campaign_id,
                        outcome=outcome,
                        occurred_at=at,
                        created_at=at,
                        due_at=at + timedelta(days=7) if outcome == "meeting_booked" else None,
                    )
                )
            if rng.random() < 0.02:
                follow_ups.append(
                    FollowUp(
                        contact_id=k.id,
                        user_id=k.owner_id,
                        note="check in after their board meeting",
                        due_at=now - timedelta(hours=rng.randint(1, 48)),
                    )
                )
            elif rng.random() < 0.05:
                follow_ups.append(
                    FollowUp(
                        contact_id=k.id,
                        user_id=k.owner_id,
                        note="send the case study",
                        due_at=now + timedelta(days=rng.randint(2, 20)),
                    )
                )
        s.add_all(activities + memberships + follow_ups)
        # Three of the demo consultant's contacts follow the built-in Warm intro: two steps due this morning.
        warm_intro = (await s.execute(select(Strategy.id).where(Strategy.name == "Warm intro"))).scalar_one()
        followers = rng.sample([k for k in contacts if k.owner_id == users[0].id], 3)
        for k, step, due in zip(followers, (1, 2, 3), (timedelta(hours=-1), timedelta(days=-1), timedelta(days=2))):
            s.add(
                ContactPlan(
                    contact_id=k.id,
                    user_id=k.owner_id,
                    strategy_id=warm_intro,
                    current_step=step,
                    status="in_progress" if step > 1 else "not_started",
                    started_at=now - timedelta(days=6),
                    step_due_at=now + due,
                )
            )
    return True
