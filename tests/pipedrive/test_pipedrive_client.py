"""The client's contract (only its own errors leave it), the throttle's arithmetic, the cached lookups and the
pure mapping to Pipedrive v2 payloads."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest
from aiohttp import web
from pydantic import SecretStr

from core.sync.commands import SyncActivity, SyncContact
from fakes.pipedrive import TimeSource
from pipedrive import mapping
from pipedrive.client import Person, PipedriveClient
from pipedrive.errors import AuthenticationFailed, PipedriveUnavailable, RequestRejected
from pipedrive.lookups import CompanyLookups
from pipedrive.throttle import REQUESTS, Throttle, budget
from tests.pipedrive.helpers import warm


def client_for(url: str, vt: TimeSource, token: str = "company-token", timeout: float = 0.3) -> PipedriveClient:
    return PipedriveClient(url, SecretStr(token), throttle=Throttle(20, 10, clock=vt, sleep=vt.sleep), timeout=timeout)


# --- throttle -------------------------------------------------------------------------------------------


def test_the_budget_stays_a_little_below_each_limit():
    assert [budget(n) for n in (10, 20, 80, 120, 2)] == [9, 18, 72, 108, 1]


async def test_a_slot_frees_two_seconds_after_its_answer_not_after_its_sending():
    vt = TimeSource(now=0.0)
    throttle = Throttle(4, 10, clock=vt, sleep=vt.sleep)  # 3 requests per 2 seconds
    tickets = []
    for at in (0.0, 0.5, 1.0):
        vt.now = at
        assert await throttle.limiter.free_at(REQUESTS) == at
        tickets.append(await throttle.acquire())
    vt.now = 1.2
    assert await throttle.limiter.free_at(REQUESTS) > 1.2  # all three still in flight: wait for an answer
    for ticket, answered in zip(tickets, (0.4, 0.6, 1.1)):
        vt.now = answered
        await throttle.done(ticket)
    vt.now = 1.5
    assert await throttle.limiter.free_at(REQUESTS) - 1.5 == pytest.approx(0.9)  # the first answer leaves at 2.4
    vt.now = 2.4
    assert await throttle.limiter.free_at(REQUESTS) == 2.4


async def test_the_throttle_holds_searches_to_nine_and_everything_to_eighteen_per_two_seconds():
    vt = TimeSource()
    throttle = Throttle(20, 10, clock=vt, sleep=vt.sleep)
    sent = []

    async def request(search: bool = False) -> None:
        await throttle.done(await throttle.acquire(search=search))  # answered at once
        sent.append(vt.now)

    for _ in range(12):
        await request(search=True)
    assert sent[8] == sent[0] and sent[9] == pytest.approx(sent[0] + 2)
    for _ in range(30):
        await request()
    assert all(sum(1 for t in sent if start <= t < start + 2) <= 18 for start in sent)
    await throttle.hold(5)
    before = vt.now
    await throttle.acquire()
    assert vt.now == pytest.approx(before + 5)


# --- client errors --------------------------------------------------------------------------------------


async def test_a_refused_token_is_an_authentication_error_with_a_notice(fake, vt):
    client = client_for(fake.url, vt, token="wrong")
    with pytest.raises(AuthenticationFailed, match="HTTP 401") as caught:
        await client.activity_types()
    assert "sync retry all" in caught.value.user_notice and "wrong" not in str(caught.value)
    await client.aclose()


async def test_an_invalid_payload_is_rejected_not_retried(fake, vt):
    client = client_for(fake.url, vt, timeout=5.0)  # no fault here: a busy machine must not turn it into a timeout
    with pytest.raises(RequestRejected, match="Name is required") as caught:
        await client.create_person({"name": ""})
    assert not caught.value.retryable and caught.value.user_notice is None
    with pytest.raises(RequestRejected, match="Unknown field"):
        await client.create_person({"name": "Bob", "title": "CEO"})
    await client.aclose()


async def test_a_server_error_a_timeout_and_no_server_are_unavailable(fake, vt):
    client = client_for(fake.url, vt)
    fake.fail("GET", "/api/v1/activityTypes", "503")
    fake.fail("GET", "/api/v1/personFields", "timeout")
    with pytest.raises(PipedriveUnavailable, match="HTTP 503") as caught:
        await client.activity_types()
    assert caught.value.retryable
    with pytest.raises(PipedriveUnavailable, match="did not answer in time"):
        await client.person_fields()
    await client.aclose()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    nowhere = client_for(f"http://127.0.0.1:{closed_port}", vt)
    with pytest.raises(PipedriveUnavailable, match="Could not reach Pipedrive"):
        await nowhere.activity_types()
    await nowhere.aclose()


@pytest.fixture
async def odd_server():
    """A server answering HTML, then JSON of the wrong shape."""
    answers = [
        web.Response(text="<html>maintenance</html>", content_type="text/html"),
        web.json_response({"success": True, "data": {"items": [{"item": {"name": "no id"}}]}}),
    ]

    async def handle(request):
        return answers.pop(0)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    await runner.cleanup()


async def test_unreadable_answers_are_the_client_s_own_errors(odd_server):
    client = client_for(odd_server, TimeSource())
    with pytest.raises(PipedriveUnavailable, match="could not be read"):
        await client.search_organizations("Acme")
    with pytest.raises(PipedriveUnavailable, match="unexpected shape"):
        await client.search_organizations("Acme")
    await client.aclose()


# --- cached lookups -------------------------------------------------------------------------------------


async def test_lookups_are_cached_until_they_expire(fake, vt):
    client = client_for(fake.url, vt)
    lookups = CompanyLookups(client, ttl_seconds=600, clock=vt)
    assert await lookups.activity_type("task") == "task"
    assert await lookups.activity_type("call") == "call"
    assert await lookups.owner_id("ANA@example.com") == 101
    assert await lookups.owner_id("nobody@example.com") is None
    assert await lookups.owner_id("nobody@example.com") is None  # not found is remembered too
    assert (fake.calls("GET", "/api/v1/activityTypes"), fake.calls("GET", "/api/v1/users/find")) == (1, 2)
    vt.now += 601
    await lookups.activity_type("call")
    assert fake.calls("GET", "/api/v1/activityTypes") == 2
    await client.aclose()


async def test_a_user_unknown_to_pipedrive_syncs_without_owner_and_is_looked_up_once(core, make, fake, worker):
    zoe = await make.user("Zoe", email="zoe@example.com")
    for n in range(2):
        await warm(core, zoe, await make.contact(zoe, f"Lead {n}", email=f"lead{n}@x.io"))
    await worker.drain()
    assert [p["owner_id"] for p in fake.persons.values()] == [None, None]
    assert fake.calls("GET", "/api/v1/users/find") == 1


# --- mapping --------------------------------------------------------------------------------------------

CONTACT = SyncContact(7, "Bob Stone", "bob@acme.com", None, "Acme", 4, None, None, "Fintech")


def activity(**fields) -> SyncActivity:
    values = {
        "id": 1,
        "kind": "call",
        "outcome": "none",
        "subject": None,
        "note": None,
        "occurred_at": datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
        "due_at": None,
        "pipedrive_activity_id": None,
        **fields,
    }
    return SyncActivity(**values)


def test_a_person_payload_has_only_what_is_known_in_v2_types():
    payload = mapping.person_payload(CONTACT, owner_id=101, org_id=None, label_id=3, campaign_field_key="k" * 40)
    assert payload == {
        "name": "Bob Stone",
        "owner_id": 101,
        "label_ids": [3],
        "emails": [{"value": "bob@acme.com", "primary": True, "label": "work"}],
        "custom_fields": {"k" * 40: "Fintech"},
    }


def test_an_existing_person_keeps_its_labels_and_organisation():
    person = Person(5, "Bob", org_id=9, owner_id=101, label_ids=(1, 3))
    assert mapping.person_update(person, org_id=12, label_id=3) == {}
    assert mapping.person_update(Person(5, "Bob", None, None, (1,)), org_id=12, label_id=3) == {
        "label_ids": [1, 3],
        "org_id": 12,
    }


def test_the_seeds_activity_types_and_notes_not_being_activities():
    assert {
        kind: mapping.activity_type(kind)
        for kind in ("call", "email", "meeting", "linkedin", "referral", "conference", "campaign_email", "note")
    } == {
        "call": "call",
        "email": "email",
        "meeting": "meeting",
        "linkedin": "task",
        "referral": "task",
        "conference": "meeting",
        "campaign_email": "email",
        "note": None,
    }


def test_a_booked_meeting_without_a_date_has_no_due_date_and_a_subject_of_its_own():
    payload = mapping.activity_payload(
        activity(kind="meeting", outcome="meeting_booked", subject="Lunch"),
        CONTACT,
        type_key="meeting",
        person_id=5,
        org_id=None,
        owner_id=None,
    )
    assert payload == {
        "subject": "Lunch",
        "type": "meeting",
        "done": False,
        "participants": [{"person_id": 5, "primary": True}],
    }
