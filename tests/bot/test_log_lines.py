"""Log lines in both formats carry the id of the request they belong to."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.conversation import Conversation
from bot.logs import log_handler


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_a_taps_log_line_names_its_request(core, make, log_format):
    stream = io.StringIO()
    handler = log_handler(log_format, stream)
    logger = logging.getLogger("bot.conversation")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        ana = await make.user("Ana")
        bob = await make.contact(ana, "Bob Stone", email="bob@acme.com", phone="+44 20 7946 0958")
        await Conversation(core, "console").handle_button(ana, f"warm:{bob.id}")
        await Conversation(core, "console").handle_button(ana, "nonsense:1")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    first, second = stream.getvalue().splitlines()
    if log_format == "json":
        entry = json.loads(first)
        assert entry["logger"] == "bot.conversation" and entry["level"] == "INFO"
        assert entry["message"].startswith(f"tap warm by user {ana.id} on console: ")
        assert entry["request_id"].startswith("tap-") and entry["request_id"] not in second
    else:
        assert " INFO bot.conversation [tap-" in first and f"tap warm by user {ana.id} on console" in first
    assert "tap ? by user" in second  # a forged verb is not written out
    assert "Bob" not in stream.getvalue() and "bob@acme.com" not in stream.getvalue()
