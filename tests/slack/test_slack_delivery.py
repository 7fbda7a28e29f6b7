"""Slack's limits (one message of at most 50 blocks, long text), 429s, the notifier's errors and the health check."""

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import REGISTRY
from slack_sdk.models.blocks import Block

from bot.notify import ChatTarget
from bot.replies import Button, Reply, Section
from bot.slack import render
from bot.slack.service import SlackService
from core import db
from core.command import Actor, ContactRef
from core.contacts.commands import UpdateContact
from scheduler.ports import PermanentDeliveryError, TemporaryDeliveryError

ANA, DM = "U0ANA", "DU0ANA"


@pytest.fixture
async def ana(make, fake):
    fake.add_user(ANA, "ana@example.com")
    return await make.user("Ana Silva", email="ana@example.com")


def row_names(blocks):
    return [b["text"]["text"].split("*")[1] for b in blocks if b.get("block_id", "").startswith("r:")]


async def test_fifty_rows_are_one_message_of_the_rows_that_fit_and_a_count_of_the_rest(slack, fake, make, ana):
    for n in range(50):
        await make.contact(ana, f"Contact {n:02d}")
    await slack.command(ANA, "today limit 50")
    [blocks] = [r["blocks"] for r in fake.responses]
    assert len(blocks) == 50
    assert [n.split(". ", 1)[0] for n in row_names(blocks)] == [str(n) for n in range(1, 25)]
    # each row whole: its text and its buttons
    assert [b["type"] for b in blocks if b.get("block_id", "").startswith(("r:", "a:"))] == ["section", "actions"] * 24
    assert blocks[-1]["elements"][0]["text"] == "… and 26 more."
    # In the DM the same list is one message too.
    await slack.command(ANA, "today limit 50", channel=DM)
    [posted] = fake.called("chat.postMessage")
    assert posted["blocks"] == blocks


async def test_a_long_note_is_split_into_sections_within_3000_characters(slack, fake, core, make, ana):
    bob = await make.contact(ana, "Bob Stone")
    note = ("<b>R&D</b> " * 450)[:4990]  # every character of these becomes 4 or 5 once escaped
    await core.execute(UpdateContact(Actor(ana.id), ContactRef(id=bob.id), notes=note))
    await slack.command(ANA, "show bob")
    sections = [b for b in fake.responses[0]["blocks"] if b["type"] == "section"]
    assert len(sections) >= 3 and all(len(b["text"]["text"]) <= 3000 for b in sections)
    shown = "".join(b["text"]["text"] for b in sections)
    assert shown.count("&lt;b&gt;R&amp;D&lt;/b&gt;") == note.count("<b>R&D</b>")


def test_a_huge_reply_is_one_message_within_the_limits_its_text_cut_and_its_rows_counted():
    rows = tuple(
        Section(f"{n}. Contact {n}", buttons=(Button("Call ✓", f"log:{n}:call"),), contact_id=n) for n in range(1, 301)
    )
    message = render.message(Reply("<&>" * 100_000, rows))
    sections = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
    assert len(message.blocks) <= 50 and all(len(text) <= 3000 for text in sections)
    # the text in as many sections as one text may fill, then the rows (each two blocks) that fit
    assert len(sections) == render.MAX_TEXT_SECTIONS + 19 and sections[render.MAX_TEXT_SECTIONS - 1].endswith("…")
    assert message.blocks[-1]["elements"][0]["text"] == "… and 281 more."


def test_render_keeps_every_block_kit_limit_at_the_edges():
    huge = "x" * 2999 + "&"  # 3004 once escaped
    table = "\n".join(f"{n:>4} | {'y' * 80}" for n in range(80))
    menu = tuple(Button(f"Choice {n} " + "z" * 80, f"warm:{n}") for n in range(7))  # labels past 75 characters
    buttons = tuple(Button(f"B{n} " + "w" * 80, f"show:{n}") for n in range(30))
    reply = Reply(
        huge, (Section(text=table, monospace=True), Section(text="row", buttons=buttons, menu=menu, contact_id=7))
    )
    message = render.message(reply)
    assert len(message.blocks) <= 50 and len(message.text) <= 3000
    for raw in message.blocks:
        Block.parse(raw).to_dict()  # slack_sdk checks text, button, overflow and id limits
    monospace = [
        b["text"]["text"] for b in message.blocks if b["type"] == "section" and b["text"]["text"].startswith("```")
    ]
    assert len(monospace) >= 3 and all(t.endswith("```") for t in monospace)
    actions = [b for b in message.blocks if b["type"] == "actions"]
    elements = [e for b in actions for e in b["elements"]]
    assert len(elements) == 30 + 2  # 30 buttons, two overflow menus (5 + 2 choices)
    assert max(len(b["elements"]) for b in actions) <= 25
    assert elements[0]["text"]["text"] == "B0 " + "w" * 71 + "…"


async def test_a_429_on_post_message_is_retried_after_retry_after(core, fake, service, ana, waits):
    fake.fail("chat.postMessage", status=429, headers={"Retry-After": "7"})
    met = REGISTRY.get_sample_value("pipedriven_rate_limited_total", {"platform": "slack"}) or 0
    ts = await service.notifier.send(ChatTarget(ana.id, "slack", ANA), Reply("Good morning!"))
    assert ts and waits == [7.0]
    assert REGISTRY.get_sample_value("pipedriven_rate_limited_total", {"platform": "slack"}) == met + 1
    assert len(fake.called("chat.postMessage")) == 2 and len(fake.messages) == 1


async def test_a_429_too_long_to_wait_for_is_left_to_the_scheduler(core, fake, service, ana, waits):
    fake.fail("chat.postMessage", status=429, headers={"Retry-After": "600"})
    with pytest.raises(TemporaryDeliveryError) as raised:
        await service.notifier.send(ChatTarget(ana.id, "slack", ANA), Reply("Good morning!"))
    assert raised.value.retry_after == 600 and waits == [] and fake.messages == {}


@pytest.mark.parametrize(
    "method, error",
    [
        ("conversations.open", "cannot_dm_bot"),
        ("conversations.open", "user_not_found"),
        ("chat.postMessage", "account_inactive"),
    ],
)
async def test_what_no_retry_fixes_is_a_permanent_delivery_error(core, fake, service, ana, method, error):
    fake.fail(method, error=error)
    with pytest.raises(PermanentDeliveryError, match=error):
        await service.notifier.send(ChatTarget(ana.id, "slack", ANA), Reply("Good morning!"))


async def test_a_slack_outage_is_a_temporary_delivery_error(core, fake, service, ana):
    fake.fail("chat.postMessage", status=500, error="fatal_error")
    with pytest.raises(TemporaryDeliveryError):
        await service.notifier.send(ChatTarget(ana.id, "slack", ANA, dm_channel=DM), Reply("Good morning!"))


async def test_readyz_answers_200_while_the_database_answers_and_503_after(service, database_url):
    async with TestClient(TestServer(service.web_app(), host="127.0.0.1")) as http:
        response = await http.get("/readyz")
        assert (response.status, await response.text()) == (200, "ready\n")
        await service.core.engine.dispose()  # let the pool let go, then the database goes away
        db.drop_database(database_url)
        response = await http.get("/readyz")
        assert response.status == 503
        response = await http.get("/healthz")  # alive all the same
        assert (response.status, await response.text()) == (200, "ok\n")


def test_http_mode_needs_the_signing_secret(core, slack_settings):
    from bot.slack.app import SlackNotConfigured

    with pytest.raises(SlackNotConfigured, match="SLACK_SIGNING_SECRET"):
        SlackService(core, slack_settings.model_copy(update={"slack_signing_secret": None}))


def test_pipedriven_run_builds_the_slack_service_and_its_notifier_when_configured(core, slack_settings):
    from bot.runner import build_services

    services, notifiers = build_services(slack_settings, core)
    # The Pipedrive sync runs beside a chat adapter: users may have Pipedrive tokens of their own.
    assert [s.name for s in services] == ["slack (HTTP on port 3000)", "scheduler", "pipedrive sync"]
    assert notifiers["slack"].platform == "slack"
    assert build_services(slack_settings.model_copy(update={"slack_bot_token": None}), core) == ([], {})
