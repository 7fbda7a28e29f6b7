"""Fault drill: PostgreSQL restarted (or down for a while) under a running bot.

The bot recovers by itself: a command during the outage gets a clear “try again” message and stores nothing
half-way; the taps made after recovery are stored, end to end through the Slack app too (a signed request in
over HTTP, the row updated in the fake Slack). Run alone with `pytest -m drill`.
"""

import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.conversation import Conversation
from bot.notify import ChatTarget
from bot.slack.app import build_bot
from bot.slack.service import SlackService
from core import db
from core.clock import FixedClock
from core.command import Actor, ContactRef
from core.contacts.commands import AddContact
from core.errors import DatabaseUnavailable
from core.models import Activity
from core.outreach.commands import LogOutreach
from core.service import Core
from core.settings import Settings
from core.users.commands import CreateUser
from core.views import ActionResult
from fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, SignedClient

pytestmark = pytest.mark.drill


class Postgres:
    """pg_ctl on our own throwaway embedded server (never the suite's shared one)."""

    def __init__(self, root: Path):
        self.server = db.EmbeddedServer(root, cleanup_mode="delete")
        self.url = self.server.url("drill")
        inner = self.server._server
        self.pgdata, self.bin, self.user = inner.pgdata, inner.bin_path, inner.system_user
        self.socket_dir = parse_qs(urlsplit(self.url).query)["host"][0]

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [str(self.bin / "pg_ctl"), "-D", str(self.pgdata), "-w", *args],
            check=True,
            user=self.user,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        self.pg_ctl("-l", str(self.pgdata / "log"), "-o", f'-h "" -k {self.socket_dir}', "start")


@pytest.fixture
async def setup():
    # Not pytest's tmp_path: its parents are private to root, and the server runs as another system user.
    pg = Postgres(Path(tempfile.mkdtemp(prefix="pipedriven-drill-")))
    db.ensure_database(pg.url)
    db.upgrade(pg.url)
    core = Core(db.create_engine(pg.url, pool_size=2), clock=FixedClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC)))
    user = await core.execute(CreateUser(name="Ana", email="ana@example.com"))
    contact = (await core.execute(AddContact(Actor(user.id), "Bob Stone"))).contact
    yield pg, core, user, contact
    await core.engine.dispose()
    pg.server.stop()


async def count_activities(core, contact_id):
    async with core.sessions() as s:
        return (
            await s.execute(select(func.count()).select_from(Activity).where(Activity.contact_id == contact_id))
        ).scalar_one()


async def test_a_restart_is_invisible_to_the_next_tap(setup):
    pg, core, user, contact = setup
    log = LogOutreach(Actor(user.id), ContactRef(id=contact.id), "email")
    assert isinstance(await core.execute(log), ActionResult)  # the pool now holds a live connection
    pg.pg_ctl("-m", "fast", "restart")
    assert isinstance(await core.execute(log), ActionResult)  # stale connections are replaced, not failed
    assert await count_activities(core, contact.id) == 2


async def test_during_an_outage_users_get_a_clear_message_and_then_it_recovers(setup):
    pg, core, user, contact = setup
    log = LogOutreach(Actor(user.id), ContactRef(id=contact.id), "call")
    await core.execute(log)
    pg.stop()
    try:
        with pytest.raises(DatabaseUnavailable, match="not reachable"):
            await core.execute(log)
        reply = await Conversation(core, "console").handle_button(user, f"log:{contact.id}:email")
        assert "not reachable right now" in reply.text
    finally:
        pg.start()
    assert isinstance(await core.execute(log), ActionResult)
    assert await count_activities(core, contact.id) == 2


async def test_a_slack_tap_after_the_restart_is_stored_and_its_row_updated(setup):
    pg, core, user, bob = setup
    await core.execute(AddContact(Actor(user.id), "Cara Diaz"))
    fake = FakeSlack()
    fake.add_user("U0ANA", "ana@example.com")
    async with TestServer(fake.app, host="127.0.0.1") as slack_api:
        fake.url = str(slack_api.make_url("")).rstrip("/")
        settings = Settings(
            database_url=pg.url,
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=f"{fake.url}/api/",
            _env_file=None,
        )
        bot = build_bot(core, settings)
        service = SlackService(core, settings, bot=bot, host="127.0.0.1")
        async with TestClient(TestServer(service.web_app(), host="127.0.0.1")) as http:
            slack = SignedClient(http, fake, bot.in_flight)
            digest = await service.notifier.send(
                ChatTarget(user.id, "slack", "U0ANA"), await Conversation(core, "slack").digest(user)
            )
            dm = "DU0ANA"
            assert (await slack.tap("U0ANA", dm, digest, "LinkedIn ✓", contact="Bob Stone")).status == 200
            pg.stop()
            try:
                assert (await slack.tap("U0ANA", dm, digest, "Call ✓", contact="Cara Diaz")).status == 200
                told = fake.called("chat.postMessage")[-1]["text"]
                assert "not reachable right now" in told
            finally:
                pg.start()
            assert (await slack.tap("U0ANA", dm, digest, "Email ✓", contact="Cara Diaz")).status == 200
    async with core.sessions() as s:
        logged = (await s.execute(select(Activity.kind).order_by(Activity.id))).scalars().all()
    assert logged == ["linkedin", "email"]  # nothing of the tap made during the outage
    rows = [b["text"]["text"] for b in fake.messages[(dm, digest)]["blocks"] if b["type"] == "section"]
    assert any(r.startswith("✓ LinkedIn logged for Bob Stone") for r in rows)
    assert any(r.startswith("✓ Email logged for Cara Diaz") for r in rows)
    assert fake.invalid == []
