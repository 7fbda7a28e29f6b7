"""Pipedrive talks back: the fake Pipedrive sends webhooks v2 (meta, data, previous, basic auth, retries) over
real HTTP to the running receiver, and what a user sees of the contact changes accordingly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.console import ConsoleChat
from core.models import AuditEntry, Contact, OutboxMessage, PipedriveEvent
from core.sync.commands import RecordPipedriveIds
from core.vocabulary import WARM_THRESHOLD
from pipedrive.client import company_client
from pipedrive.setup import install_webhooks
from pipedrive.webhooks import ANSWER_WITHIN, MAX_BODY_BYTES, WebhookReceiver, WebhookService
from tests.pipedrive.conftest import COMPANY_TOKEN

USER, PASSWORD = "pipedrive", "hook-pass-7f3a"


@pytest.fixture
def pipedrive_settings():
    return {
        "pipedrive_webhook_user": USER,
        "pipedrive_webhook_password": PASSWORD,
        "pipedrive_webhook_port": 0,
        "pipedrive_webhook_listen": "127.0.0.1",
    }


@pytest.fixture
async def receiver(core, settings, fake):
    """`pipedriven run`'s receiver on a free port, with the webhooks installed in the fake as the CLI does."""
    service = WebhookService(core, settings)
    await service.start()
    url = f"http://127.0.0.1:{service.port}/pipedrive/webhook"
    client = company_client(settings)
    await install_webhooks(client, settings, url)
    await client.aclose()
    service.url = url
    yield service
    await service.stop()


@pytest.fixture
async def bob(core, make, ana, fake):
    """A contact of Ana's linked to a person in Pipedrive."""
    acme = fake.add_organization("Acme")
    person = fake.add_person("Bob Stone", email="bob@acme.com", org_id=acme["id"])
    contact = await make.contact(ana, "Bob Stone", email="bob@acme.com", organisation="Acme")
    await core.execute(RecordPipedriveIds(contact.id, org_id=acme["id"], person_id=person["id"]))
    return contact


@pytest.fixture
def chat(core, ana):
    return ConsoleChat(core, ana)


async def settled(rows, count: int) -> list[PipedriveEvent]:
    """The events once `count` are stored and none waits any more."""
    for _ in range(250):
        events = await rows(PipedriveEvent)
        if len(events) >= count and all(e.status != "received" for e in events):
            return events
        await asyncio.sleep(0.02)
    raise AssertionError(f"events not applied: {[(e.entity, e.status) for e in await rows(PipedriveEvent)]}")


async def post(url: str, body: bytes, *, auth: tuple[str, str] | None = (USER, PASSWORD), headers=None) -> int:
    sent = {"Authorization": aiohttp.encode_basic_auth(*auth)} if auth else {}
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers={**sent, **(headers or {})}) as response:
            return response.status


def card(out: str) -> str:
    """The contact's line in `show`'s answer."""
    return out.splitlines()[1]


# --- what comes in, and what does not ----------------------------------------------------------------------


async def test_a_person_renamed_in_pipedrive_is_renamed_in_the_bank(chat, fake, bob, receiver, rows, clock):
    person_id = (await rows(Contact))[0].pipedrive_person_id
    statuses = await fake.change_person(person_id, name="Robert Stone", at=clock.now() + timedelta(minutes=5))
    assert statuses == [200]
    [event] = await settled(rows, 1)
    assert (event.status, event.outcome, event.contact_ids) == ("applied", "name changed", [bob.id])
    assert event.payload == {}  # its personal data goes once applied
    out = await chat.send(f"show {bob.email}")
    assert card(out) == "Robert Stone (Acme)"
    assert "From Pipedrive: name changed, Tue 24 Nov 2026 09:05." in out
    [entry] = [a for a in await rows(AuditEntry) if a.command == "ApplyPipedriveEvent"]
    assert (entry.platform, entry.contact_ids) == ("pipedrive", [bob.id])


async def test_a_webhook_is_answered_once_its_change_is_in_the_bank(chat, fake, bob, receiver, rows, clock):
    """The answer is the burst's flow control: Pipedrive's next deliveries wait at its end, not in a queue here."""
    person_id = (await rows(Contact))[0].pipedrive_person_id
    for n in range(5):
        assert await fake.change_person(person_id, name=f"Rob {n}", at=clock.now() + timedelta(minutes=n)) == [200]
        assert [(e.status, e.outcome) for e in await rows(PipedriveEvent)][n] == ("applied", "name changed")
        assert card(await chat.send(f"show {bob.email}")) == f"Rob {n} (Acme)"


async def test_without_a_worker_here_a_webhook_is_answered_once_stored(core, settings, fake, bob, rows, clock):
    stored_only = WebhookReceiver(core, settings)  # no worker here applies what it stores
    app = web.Application()
    stored_only.add_routes(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    body = {
        "meta": {"action": "change", "entity": "person", "entity_id": "7", "timestamp": "2026-11-24T09:00:00Z"},
        "data": {"id": 7, "name": "Somebody"},
        "previous": {},
    }
    try:
        started = asyncio.get_running_loop().time()
        assert await post(f"http://127.0.0.1:{port}/pipedrive/webhook", json.dumps(body).encode()) == 200
        assert asyncio.get_running_loop().time() - started < ANSWER_WITHIN
        assert [e.status for e in await rows(PipedriveEvent)] == ["received"]
    finally:
        await runner.cleanup()


async def test_new_email_and_phone_in_pipedrive_reach_the_contact(chat, fake, bob, receiver, rows, clock):
    person_id = (await rows(Contact))[0].pipedrive_person_id
    emails = [{"value": "old@acme.com", "primary": False, "label": "home"}]
    emails.append({"value": "Robert@Acme.com", "primary": True, "label": "work"})
    phones = [{"value": "020 7946 0958", "primary": True, "label": "work"}]
    await fake.change_person(person_id, emails=emails, phones=phones, at=clock.now() + timedelta(minutes=1))
    [event] = await settled(rows, 1)
    assert (event.status, event.outcome) == ("applied", "email, phone changed")
    [contact] = await rows(Contact)
    assert (contact.email, contact.phone) == ("robert@acme.com", "+442079460958")
    out = await chat.send("show robert@acme.com")
    assert "robert@acme.com" in out and "From Pipedrive: email, phone changed" in out


async def test_a_person_given_another_owner_in_pipedrive_shows_that_owner(chat, fake, bob, receiver, rows, clock):
    person_id = (await rows(Contact))[0].pipedrive_person_id
    await fake.change_person(person_id, owner_id=fake.users[0]["id"], at=clock.now() + timedelta(minutes=1))
    await settled(rows, 1)
    assert "Owner in Pipedrive: Ana Silva" in await chat.send(f"show {bob.email}")
    carla = fake.add_user("Carla Mendes", "carla@example.com")  # a user the company gained since its users were read
    await fake.change_person(person_id, owner_id=carla["id"], at=clock.now() + timedelta(minutes=2))
    events = await settled(rows, 2)
    assert (events[1].status, events[1].outcome) == ("applied", "owner changed")
    out = await chat.send(f"show {bob.email}")
    assert "Owner in Pipedrive: Carla Mendes" in out
    assert "From Pipedrive: owner changed, Tue 24 Nov 2026 09:02." in out
    assert fake.calls("GET", "/api/v1/users") == 2  # read once, and again for the owner it did not know


async def test_bad_auth_is_401_and_nothing_is_stored(fake, bob, receiver, rows):
    body = json.dumps({"meta": {"entity": "person"}, "data": {}}).encode()
    assert await post(receiver.url, body, auth=None) == 401
    assert await post(receiver.url, body, auth=(USER, "wrong")) == 401
    assert await post(receiver.url, body, auth=None, headers={"Authorization": "Basic %%%"}) == 401
    fake.webhooks[next(iter(fake.webhooks))]["http_auth_password"] = "stale-password"
    fake.retry_delays = (0.01, 0.01)
    person_id = (await rows(Contact))[0].pipedrive_person_id
    assert await fake.change_person(person_id, name="Robert Stone") in ([401],)
    assert [d[2] for d in fake.deliveries] == [401, 401, 401]  # Pipedrive tried again after each non-2xx
    assert await rows(PipedriveEvent) == []


async def test_malformed_and_oversized_bodies_are_refused_and_nothing_is_stored(fake, receiver, rows):
    assert await post(receiver.url, b"{not json") == 400
    assert await post(receiver.url, json.dumps({"data": {}}).encode()) == 400
    assert await post(receiver.url, json.dumps({"meta": {"entity": "person", "action": "change"}}).encode()) == 400
    meta = {"entity": "person", "action": "change", "entity_id": "x", "timestamp": "2026-11-24T09:00:00Z"}
    assert await post(receiver.url, json.dumps({"meta": meta, "data": {}}).encode()) == 400
    nul = {"meta": {**meta, "entity_id": "1"}, "data": {"name": "Bob\u0000"}}  # PostgreSQL can't hold it
    assert await post(receiver.url, json.dumps(nul).encode()) == 400
    huge = json.dumps({"meta": {**meta, "entity_id": "1"}, "data": {"name": "x" * MAX_BODY_BYTES}}).encode()
    assert await post(receiver.url, huge) == 413

    async def chunks():  # no Content-Length: the size read decides
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536

    async with aiohttp.ClientSession() as session:
        async with session.post(
            receiver.url, data=chunks(), headers={"Authorization": aiohttp.encode_basic_auth(USER, PASSWORD)}
        ) as response:
            assert response.status == 413
    assert await rows(PipedriveEvent) == []


async def test_the_same_event_delivered_twice_acts_once(fake, bob, receiver, rows, clock):
    person_id = (await rows(Contact))[0].pipedrive_person_id
    hook = next(iter(fake.webhooks.values()))
    at = clock.now() + timedelta(minutes=1)
    meta = {"action": "change", "entity": "person", "entity_id": str(person_id), "version": "2.0"}
    meta |= {
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "id": "e1",
        "attempt": 1,
        "webhook_id": str(hook["id"]),
    }
    body = {"meta": meta, "data": {**fake.persons[person_id], "name": "Rob Stone"}, "previous": {"name": "Bob Stone"}}
    assert await post(receiver.url, json.dumps(body).encode()) == 200
    body["meta"] = {**meta, "attempt": 2}  # Pipedrive's retry after an answer it never got
    assert await post(receiver.url, json.dumps(body).encode()) == 200
    [event] = await settled(rows, 1)
    assert event.status == "applied"
    assert [a.command for a in await rows(AuditEntry)].count("ApplyPipedriveEvent") == 1


async def test_an_older_event_after_a_newer_one_never_moves_the_name_back(chat, fake, bob, receiver, rows, clock):
    person_id = (await rows(Contact))[0].pipedrive_person_id
    await fake.change_person(person_id, name="Robert Stone", at=clock.now() + timedelta(minutes=10))
    await settled(rows, 1)  # the fake's deliveries race each other: the newer one arrives first here for sure
    await fake.change_person(person_id, name="Bobby Stone", at=clock.now() + timedelta(minutes=5))
    first, late = await settled(rows, 2)
    assert (first.status, late.status) == ("applied", "stale")
    assert "older than a change already applied to name" in late.outcome
    assert card(await chat.send(f"show {bob.email}")) == "Robert Stone (Acme)"


async def test_a_local_edit_later_than_the_pipedrive_change_is_kept_and_both_are_audited(
    chat, fake, bob, receiver, rows, clock
):
    person_id = (await rows(Contact))[0].pipedrive_person_id
    assert "is now Bobby Stone" in await chat.send(f"edit {bob.email} name Bobby Stone")
    await fake.change_person(person_id, name="Robert Stone", at=clock.now() - timedelta(minutes=1))
    [event] = await settled(rows, 1)
    assert (event.status, event.outcome) == ("stale", "kept the later edit here of name")
    assert card(await chat.send(f"show {bob.email}")) == "Bobby Stone (Acme)"
    commands = [a.command for a in await rows(AuditEntry) if bob.id in a.contact_ids]
    assert "EditContact" in commands and "KeptLocalEdit" in commands


async def test_a_merge_relinks_the_contact_to_the_surviving_person(chat, fake, bob, receiver, rows, clock):
    person_id = (await rows(Contact))[0].pipedrive_person_id
    survivor = fake.add_person("Robert Stone", email="robert@acme.com")
    await fake.merge_persons(person_id, survivor["id"], at=clock.now() + timedelta(minutes=1))
    events = await settled(rows, 3)  # the loser's delete, the survivor's change, the survivor as read after
    [delete] = [e for e in events if e.action == "delete"]
    assert (delete.status, delete.outcome) == ("applied", f"relinked to person {survivor['id']}")
    [contact] = await rows(Contact)
    assert (contact.pipedrive_person_id, contact.name, contact.email) == (
        survivor["id"],
        "Robert Stone",
        "robert@acme.com",
    )
    out = await chat.send("show robert@acme.com")
    assert card(out) == "Robert Stone"  # the survivor is in no organisation
    assert "Deleted in Pipedrive" not in out


async def test_a_survivors_change_that_came_before_the_merge_still_reaches_the_contact(
    chat, fake, bob, receiver, rows, clock
):
    person_id = (await rows(Contact))[0].pipedrive_person_id
    survivor = fake.add_person("Robert Stone", email="robert@acme.com")
    emails = survivor["emails"] + [{**e, "primary": False} for e in fake.persons[person_id]["emails"]]
    await fake.change_person(survivor["id"], emails=emails, at=clock.now() + timedelta(minutes=1))
    [early] = await settled(rows, 1)
    assert (early.status, early.outcome) == ("ignored", "unknown person")
    await fake.delete_person_in_app(person_id, merged_to_id=survivor["id"], at=clock.now() + timedelta(minutes=1))
    events = await settled(rows, 3)
    assert [e.status for e in events] == ["ignored", "applied", "applied"]
    [contact] = await rows(Contact)
    assert (contact.pipedrive_person_id, contact.name, contact.email) == (
        survivor["id"],
        "Robert Stone",
        "robert@acme.com",
    )
    assert "name, email, organisation changed" in events[2].outcome


async def test_a_person_deleted_in_pipedrive_stays_in_the_bank_unlinked(chat, fake, bob, receiver, rows, clock):
    person_id = (await rows(Contact))[0].pipedrive_person_id
    await fake.delete_person_in_app(person_id, at=clock.now() + timedelta(hours=1))
    [event] = await settled(rows, 1)
    assert (event.status, event.outcome) == ("applied", "unlinked (deleted in Pipedrive)")
    [contact] = await rows(Contact)
    assert contact.pipedrive_person_id is None
    out = await chat.send(f"show {bob.email}")
    assert card(out) == "Bob Stone (Acme)"
    assert "Deleted in Pipedrive on Tue 24 Nov 2026: no longer linked there." in out


async def test_events_about_unknown_persons_are_ignored(fake, bob, receiver, rows):
    stranger = fake.add_person("Zed Unknown", email="zed@x.io")
    await fake.change_person(stranger["id"], name="Zed Known")
    await fake.emit("deal", "change", 77, data={"id": 77, "status": "won"})
    person, deal = await settled(rows, 2)
    assert (person.status, person.outcome) == ("ignored", "unknown person")
    assert (deal.status, deal.outcome) == ("ignored", "unknown deal")
    assert [k.name for k in await rows(Contact)] == ["Bob Stone"]


async def test_an_organization_renamed_renames_the_linked_contacts(chat, fake, bob, receiver, rows, clock):
    [contact] = await rows(Contact)
    await fake.change_organization(contact.pipedrive_org_id, name="Acme Group", at=clock.now() + timedelta(minutes=2))
    [event] = await settled(rows, 1)
    assert (event.status, event.outcome) == ("applied", "organisation changed")
    assert card(await chat.send(f"show {bob.email}")) == "Bob Stone (Acme Group)"


async def test_a_person_moved_to_an_organization_the_bank_does_not_know_gets_its_name(
    chat, fake, bob, receiver, rows, clock
):
    person_id = (await rows(Contact))[0].pipedrive_person_id
    globex = fake.add_organization("Globex")
    await fake.change_person(person_id, org_id=globex["id"], at=clock.now() + timedelta(minutes=3))
    [event] = await settled(rows, 1)
    assert (event.status, event.outcome) == ("applied", "organisation changed")
    [contact] = await rows(Contact)
    assert (contact.organisation, contact.pipedrive_org_id) == ("Globex", globex["id"])
    assert fake.calls("GET", rf"/api/v2/organizations/{globex['id']}") == 1


async def test_sync_lists_the_events_received_with_their_outcome(chat, fake, bob, receiver, rows, core, clock):
    from bot.render import sync_text
    from core.sync.commands import ListSyncs

    stranger = fake.add_person("Zed Unknown", email="zed@x.io")
    at = clock.now() + timedelta(minutes=1)
    await fake.change_person(stranger["id"], name="Zed Known", at=at)
    await fake.change_person((await rows(Contact))[0].pipedrive_person_id, name="Robert Stone", at=at)
    await settled(rows, 2)
    text = sync_text(await core.execute(ListSyncs()), "Europe/London")
    assert "From Pipedrive: 1 applied · 1 ignored · 0 stale · 0 error" in text
    assert f"↩ person {stranger['id']} changed 24 Nov 09:01: ignored — unknown person" in text
    out = await chat.send("sync")  # a user sees those about their own contacts
    assert "From Pipedrive: 1 applied · 0 ignored" in out and "applied — name changed" in out
    assert "unknown person" not in out


# --- where it runs -----------------------------------------------------------------------------------------


def test_run_serves_the_webhooks_on_slacks_http_port_when_slack_runs_over_http(core, settings):
    from bot.runner import build_services

    slack_http = settings.model_copy(
        update={"slack_bot_token": SecretStr("xoxb-1"), "slack_signing_secret": SecretStr("s")}
    )
    services, _ = build_services(slack_http, core)
    [hooks] = [s for s in services if isinstance(s, WebhookService)]
    [slack] = [s for s in services if s.name.startswith("slack")]
    assert not hooks.own_server
    assert "/pipedrive/webhook" in {r.resource.canonical for r in slack.web_app().router.routes() if r.resource}
    alone, _ = build_services(settings, core)
    assert [s.own_server for s in alone if isinstance(s, WebhookService)] == [True]


async def test_the_receivers_own_server_answers_health_checks(core, settings):
    from bot.health import Health
    from bot.runner import build_services

    services, _ = build_services(settings, core, Health(core))
    [hooks] = [s for s in services if isinstance(s, WebhookService)]
    hooks.host, hooks.port = "127.0.0.1", 0
    await hooks.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{hooks.port}/healthz") as response:
                assert (response.status, await response.text()) == (200, "ok\n")
            async with session.get(f"http://127.0.0.1:{hooks.port}/metrics") as response:
                assert response.status == 200 and "pipedriven_webhook_events" in await response.text()
    finally:
        await hooks.stop()


@pytest.mark.process
async def test_pipedriven_run_receives_a_webhook_and_the_bank_follows(fake, bob, rows, database_url, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PIPEDRIVE_API_TOKEN": "company-token",
        "PIPEDRIVE_BASE_URL": fake.url,
        "PIPEDRIVEN_DATA_DIR": str(tmp_path),
        "PIPEDRIVE_WEBHOOK_USER": USER,
        "PIPEDRIVE_WEBHOOK_PASSWORD": PASSWORD,
        "PIPEDRIVE_WEBHOOK_PORT": str(port),
        "PIPEDRIVE_WEBHOOK_LISTEN": "127.0.0.1",
        "PIPEDRIVE_WEBHOOK_URL": f"http://127.0.0.1:{port}/pipedrive/webhook",
        "HEALTH_PORT": "0",  # the receiver's own port answers the health routes
    }
    for name in ("SLACK_BOT_TOKEN", "TELEGRAM_BOT_TOKEN", "TEST_DATABASE_URL"):
        env.pop(name, None)
    install = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "pipedrive", "webhooks", "install", env=env, cwd=tmp_path
    )
    assert await asyncio.wait_for(install.wait(), 60) == 0
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
    )
    try:
        person_id = (await rows(Contact))[0].pipedrive_person_id
        fake.retry_delays = (1.0, 2.0, 4.0)  # the first try may come before the server listens
        for _ in range(100):
            if await fake.change_person(person_id, name=f"Robert Stone {_}") == [200]:
                break
        await settled(rows, 1)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert "pipedrive webhooks (/pipedrive/webhook on port" in stderr.decode()
    assert PASSWORD not in stderr.decode()
    [contact] = await rows(Contact)
    assert contact.name.startswith("Robert Stone")


# --- what the logs say ---------------------------------------------------------------------------------------


@pytest.fixture
def json_logs():
    """Every INFO line of the process, as LOG_FORMAT=json writes it."""
    import io
    import logging

    from bot.logs import log_handler

    stream = io.StringIO()
    handler = log_handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


async def test_json_logs_of_a_tap_and_a_webhook_carry_request_ids_and_nothing_personal(
    core, settings, receiver, fake, bob, rows, json_logs
):
    from aiohttp.test_utils import TestClient, TestServer

    from bot.slack.service import SlackService
    from fakes.slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, SignedClient

    slack_fake = FakeSlack()
    slack_server = TestServer(slack_fake.app, host="127.0.0.1")
    await slack_server.start_server()
    slack_fake.url = str(slack_server.make_url("")).rstrip("/")
    slack_settings = settings.model_copy(
        update={
            "slack_bot_token": SecretStr(BOT_TOKEN),
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
            "slack_api_url": f"{slack_fake.url}/api/",
        }
    )
    service = SlackService(core, slack_settings, host="127.0.0.1")
    http = TestClient(TestServer(service.web_app(), host="127.0.0.1"))
    await http.start_server()
    slack = SignedClient(http, slack_fake, service.bot.in_flight)
    try:
        slack_fake.add_user("U0ANA", "ana@example.com")
        line = "called Bob Stone at Acme on +44 20 7946 0958, no answer"
        await slack.event(
            {
                "type": "message",
                "channel": "DU0ANA",
                "channel_type": "im",
                "user": "U0ANA",
                "text": line,
                "ts": "1700000001.000100",
                "event_ts": "1700000001.000100",
            },
            event_id="Ev1",
        )
        [(channel, ts)] = list(slack_fake.messages)
        await slack.tap("U0ANA", channel, ts, "✓ Confirm")
        await service.bot.in_flight.wait_idle(10)
    finally:
        await http.close()
        await slack_server.close()
    [person_id] = [row.pipedrive_person_id for row in await rows(Contact)]
    new_email = [{"value": "robert.stone@acme.com", "primary": True, "label": "work"}]
    await fake.change_person(person_id, name="Robert Stone", emails=new_email)
    await settled(rows, 1)

    entries = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    assert entries and all(set(e) >= {"time", "level", "logger", "message", "request_id"} for e in entries)
    taps = [e for e in entries if e["message"].startswith("tap iok")]
    assert taps and taps[0]["request_id"].startswith("tap-")
    hooks = [e for e in entries if e["message"].startswith("pipedrive webhook: received")]
    assert hooks and hooks[0]["request_id"].startswith("webhook-")
    text = json_logs.getvalue()
    for private in (
        "Bob", "Stone", "Robert", "bob@acme.com", "robert.stone@acme.com", "7946", "ana@example.com",
        BOT_TOKEN, SIGNING_SECRET, COMPANY_TOKEN, PASSWORD,
    ):  # fmt: skip
        assert private not in text, private


async def test_the_warm_label_added_in_pipedrive_makes_the_contact_warm_and_removed_lowers_nothing(
    chat, fake, bob, receiver, rows, clock
):
    person_id = (await rows(Contact))[0].pipedrive_person_id
    warm = next(o["id"] for o in fake.label_options() if o["label"] == "Warm lead")
    hot = next(o["id"] for o in fake.label_options() if o["label"] == "Hot lead")
    await fake.change_person(person_id, label_ids=[hot], at=clock.now() + timedelta(minutes=1))
    await settled(rows, 1)
    assert (await rows(Contact))[0].warmness < WARM_THRESHOLD
    await fake.change_person(person_id, label_ids=[hot, warm], at=clock.now() + timedelta(minutes=2))
    events = await settled(rows, 2)
    assert (events[-1].status, events[-1].outcome) == ("applied", "warm label added")
    [contact] = await rows(Contact)
    assert contact.warmness == WARM_THRESHOLD
    assert await rows(OutboxMessage) == []  # no sync back: the label is there already
    assert "From Pipedrive: warm label added" in await chat.send(f"show {bob.email}")
    await fake.change_person(person_id, label_ids=[], at=clock.now() + timedelta(minutes=3))
    await settled(rows, 3)
    assert (await rows(Contact))[0].warmness == WARM_THRESHOLD
