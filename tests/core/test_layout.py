"""The core's shape: features on a small kernel, each command in one feature with its one handler beside it.

These check what a change would silently break: an import cycle, a feature's commands pulling in the ORM (chat
adapters import them), a command without a handler or with its handler elsewhere, and which commands the audit
trail leaves out.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from core import registry
from core.command import Audit, Bookkeeping, Command, Query
from core.service import FEATURES

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = ("bot", "scheduler", "pipedrive", "slack_bolt", "slack_sdk", "telegram", "httpx", "apscheduler")


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_core_module_imports_first_without_a_cycle_and_without_an_adapter():
    out = run_python(f"""
import importlib, pkgutil, sys
import core
names = sorted(m.name for m in pkgutil.walk_packages(core.__path__, "core."))
failed = []
for name in names:
    for loaded in [m for m in sys.modules if m == "core" or m.startswith("core.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append(f"{{name}}: {{exc!r}}")
print("\\n".join(failed) or "ok")
print(sorted({{m.split(".")[0] for m in sys.modules}} & set({ADAPTERS!r})))
""")
    assert out.splitlines() == ["ok", "[]"]


def test_the_commands_of_every_feature_load_without_the_orm():
    modules = ["core.command", "core.views", "core.importing.uploads"] + [f"core.{f}.commands" for f in FEATURES]
    out = run_python(f"""
import importlib, sys
for name in {modules!r}:
    importlib.import_module(name)
print(sorted(m for m in sys.modules if m.split(".")[0] == "sqlalchemy" or m in ("core.models", "core.context")
             or m.endswith(".handlers"))[:5])
""")
    assert out.strip() == "[]"


def all_commands() -> set[type]:
    found, todo = set(), [Command]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return found - {Query, Bookkeeping}


def test_every_command_has_one_handler_in_its_own_feature():
    commands = {c for c in all_commands() if c.__module__.startswith("core.")}
    assert commands == set(registry.HANDLERS)
    for command, handler in registry.HANDLERS.items():
        feature = command.__module__.removesuffix(".commands")
        assert command.__module__ == f"{feature}.commands" and handler.__module__ == f"{feature}.handlers", command


def test_a_second_handler_for_a_command_is_refused_at_import_time():
    class Twice(Command):
        pass

    async def first(cmd: Twice, ctx): ...

    async def second(cmd: Twice, ctx): ...

    try:
        registry.handles(first)
        with pytest.raises(TypeError, match="Twice has two handlers"):
            registry.handles(second)
    finally:
        registry.HANDLERS.pop(Twice, None)
    with pytest.raises(TypeError, match="annotated"):
        registry.handles(lambda cmd, ctx: None)


READ_ONLY = {
    "ListUsers",
    "ListChatIdentities",
    "ShowSettings",
    "FindContacts",
    "FindInEveryBank",
    "ShowContact",
    "ListCampaigns",
    "TodaySuggestions",
    "GetHeatmap",
    "GetStats",
    "ShowCampaign",
    "ShowHome",
    "RecallPrompt",
    "ShowInteractionDraft",
    "PreviewErasure",
    "PreviewRemoval",
    "PreviewMerge",
    "ListRemoved",
    "ListAudit",
    "ListDeliveryProblems",
    "ListStrategies",
    "ShowStrategy",
    "ListDueSteps",
    "GetCadenceStats",
    "GetStrategyAnalytics",
    "GetWeeklySummary",
    "ListSyncs",
    "NextSyncDue",
    "ListSyncNotices",
    "KnownPipedriveIds",
    "FindLastUndoable",
    "WaitingPipedriveEvents",
    "PipedriveEventsToApply",
    "PipedrivePollMarks",
    "ShowMethodRates",
    "ShowOutcomeRules",
    "AdviseMethod",
}
BOOKKEEPING = {
    "ClaimDueDeliveries",
    "RecordDelivered",
    "RecordDeliveryFailure",
    "PruneHistory",
    "ClaimSync",
    "FinishSync",
    "MarkSyncNoticesSent",
    "ClaimSyncNotices",
    "ReleaseSyncNotices",
    "ReceivePipedriveEvent",
    "ReceivePipedriveEvents",
    "ApplyPipedriveEvent",
    "ApplyPipedriveEvents",
    "ClaimPipedriveNotes",
    "ReleasePipedriveNotes",
    "RecordPipedrivePollMark",
    "ReleaseDeliveryClaims",
    "ReleaseSyncs",
    "RefitMethodRates",
}


def test_the_audit_trail_leaves_out_only_reads_and_bookkeeping():
    by_class = {audit: {c.__name__ for c in registry.HANDLERS if c.audit is audit} for audit in Audit}
    assert by_class[Audit.READ_ONLY] == READ_ONLY
    assert by_class[Audit.BOOKKEEPING] == BOOKKEEPING
    assert {"LogOutreach", "ExportContact", "RecordPipedriveIds", "ImportContacts"} <= by_class[Audit.RECORDED]
