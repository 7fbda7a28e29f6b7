"""CSV import into a bank, with real awkward files built here: encodings, delimiters, quoting, bad rows."""

from __future__ import annotations

import pytest

from csvfiles import csv_bytes
from core.commands import Actor, ImportContacts


async def run_import(core, user, data, **options):
    return await core.execute(ImportContacts(Actor(user.id), data, **options))


async def test_smoke(core, ana, bank):
    data = csv_bytes([["Name", "Email", "Company"], ["aNA SILVA", "ana@acme.com", "Acme"], ["bob", "bad", ""]])
    report = await run_import(core, ana, data)
    print(report)
    print(await bank(ana))
    again = await run_import(core, ana, data)
    print(again)
