"""The app manifest grants what the code uses: the command, the events, interactivity and every scope."""

import re
from pathlib import Path

import yaml

from bot.slack import commands
from bot.slack.service import EVENTS_PATH

ROOT = Path(__file__).resolve().parents[2]
# The bot scope each Web API method we call needs (views.* need none beyond the app's own surfaces).
SCOPES = {
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_postEphemeral": "chat:write",
    "conversations_open": "im:write",
    "conversations_history": "im:history",
    "users_info": "users:read",
    "views_open": None,
    "views_publish": None,
    "files_info": "files:read",
    "files_upload_v2": "files:write",
}


def manifest() -> dict:
    return yaml.safe_load((ROOT / "slack-manifest.yml").read_text())


def test_the_manifest_declares_the_command_events_and_interactivity():
    m = manifest()
    [command] = m["features"]["slash_commands"]
    assert command["command"] == commands.COMMAND and command["should_escape"] is True
    assert command["url"].endswith(EVENTS_PATH)
    assert set(m["settings"]["event_subscriptions"]["bot_events"]) == {"app_home_opened", "message.im"}
    assert m["settings"]["interactivity"]["is_enabled"] is True
    assert m["settings"]["interactivity"]["request_url"].endswith(EVENTS_PATH)
    assert m["features"]["app_home"]["home_tab_enabled"] and m["features"]["app_home"]["messages_tab_enabled"]


def test_every_web_api_method_the_app_calls_has_its_scope():
    called = set()
    for source in (ROOT / "bot" / "slack").glob("*.py"):
        called |= set(re.findall(r"client\.([A-Za-z]+_[A-Za-z0-9_]+)\(", source.read_text()))
    assert called <= SCOPES.keys(), f"say which scope {called - SCOPES.keys()} need"
    granted = set(manifest()["oauth_config"]["scopes"]["bot"])
    needed = {SCOPES[method] for method in called} - {None} | {"commands", "users:read.email"}
    assert needed <= granted


def test_the_scopes_doctor_checks_are_the_manifests():
    from bot.slack.app import BOT_SCOPES

    assert sorted(manifest()["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
