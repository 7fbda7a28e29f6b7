"""`pipedriven pipedrive setup` and `pipedriven pipedrive webhooks`, run as a user runs them, against the fake."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

pytestmark = pytest.mark.process

HOOK_URL = "https://bot.example.com/pipedrive/webhook"


@pytest.fixture
def pipedriven(fake, tmp_path):
    """`await pipedriven("pipedrive", "setup")`: the command in a process of its own, the fake answering meanwhile."""
    base = {
        **os.environ,
        "PIPEDRIVE_API_TOKEN": "company-token",
        "PIPEDRIVE_BASE_URL": fake.url,
        "PIPEDRIVE_WEBHOOK_USER": "pipedrive",
        "PIPEDRIVE_WEBHOOK_PASSWORD": "s3cret-hook-pass",
        "PIPEDRIVEN_DATA_DIR": str(tmp_path / "data"),
    }

    async def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            *args,
            env={**base, **(env or {})},
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    return run


@pytest.mark.parametrize("fake_options", [{"custom_fields": (), "labels": ("Customer", "Hot lead")}])
async def test_setup_creates_the_field_and_the_label_once(fake, pipedriven):
    code, out, _ = await pipedriven("pipedrive", "setup")
    assert code == 0
    assert out.splitlines() == [
        "Created the person field “Campaign source” (text).",
        "Created the person label “Warm lead”.",
    ]
    assert [o["label"] for o in fake.label_options()] == ["Customer", "Hot lead", "Warm lead"]  # none lost
    assert len(fake.field_key("Campaign source")) == 40
    code, out, _ = await pipedriven("pipedrive", "setup")
    assert (code, out.splitlines()) == (
        0,
        ["The person field “Campaign source” is there.", "The person label “Warm lead” is there."],
    )
    assert [f["name"] for f in fake.person_fields].count("Campaign source") == 1
    assert [o["label"] for o in fake.label_options()].count("Warm lead") == 1


async def test_webhooks_install_twice_registers_one_set_of_v2_webhooks(fake, pipedriven):
    code, out, _ = await pipedriven("pipedrive", "webhooks", "install", "--url", HOOK_URL)
    assert code == 0 and out.count("Created the") == 4
    code, out, err = await pipedriven("pipedrive", "webhooks", "install", "--url", HOOK_URL)
    assert code == 0 and "Created" not in out and out.count("is there") == 4
    hooks = list(fake.webhooks.values())
    assert sorted(h["event_object"] for h in hooks) == ["activity", "deal", "organization", "person"]
    assert {(h["event_action"], h["version"], h["subscription_url"]) for h in hooks} == {("*", "2.0", HOOK_URL)}
    assert {(h["http_auth_user"], h["http_auth_password"]) for h in hooks} == {("pipedrive", "s3cret-hook-pass")}
    assert "s3cret-hook-pass" not in out + err


async def test_webhooks_remove_deletes_only_ours_and_list_marks_them(fake, pipedriven):
    other = "https://zapier.example.com/hooks/1"
    fake.webhooks[1] = {**_hook(1, other)}
    await pipedriven("pipedrive", "webhooks", "install", env={"PIPEDRIVE_WEBHOOK_URL": HOOK_URL})
    code, out, _ = await pipedriven("pipedrive", "webhooks", "list", env={"PIPEDRIVE_WEBHOOK_URL": HOOK_URL})
    assert code == 0 and out.count("(ours)") == 4 and other in out
    code, out, _ = await pipedriven("pipedrive", "webhooks", "remove", "--url", HOOK_URL)
    assert code == 0 and out.count("Removed the") == 4
    assert [h["subscription_url"] for h in fake.webhooks.values()] == [other]


async def test_webhooks_install_without_credentials_or_url_says_what_to_set(fake, pipedriven):
    code, _, err = await pipedriven("pipedrive", "webhooks", "install")
    assert code == 1 and "PIPEDRIVE_WEBHOOK_URL" in err and "Traceback" not in err
    code, _, err = await pipedriven(
        "pipedrive", "webhooks", "install", "--url", HOOK_URL, env={"PIPEDRIVE_WEBHOOK_PASSWORD": ""}
    )
    assert code == 1 and "PIPEDRIVE_WEBHOOK_PASSWORD" in err and "Traceback" not in err
    assert fake.webhooks == {}


def _hook(hook_id: int, url: str) -> dict:
    return {
        "id": hook_id,
        "event_action": "*",
        "event_object": "deal",
        "subscription_url": url,
        "version": "2.0",
        "is_active": 1,
        "http_auth_user": None,
        "http_auth_password": None,
        "name": "Zapier",
    }
