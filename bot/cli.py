"""The `pipedriven` command: set-up, the demo, the console chat, users, campaigns, CSV import, stats,
privacy (a person's data exported or erased on request, the audit trail) and the Pipedrive sync.

Every failure a user can cause ends with a one-line message on stderr and a non-zero exit, never a trace.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
import warnings
from collections.abc import Callable
from datetime import UTC, datetime

from bot.bootstrap import configure_logging, migrate, open_core
from core import db
from core.analytics.commands import StrategyAnalytics
from core.command import Actor, ContactRef
from core.contacts.commands import (
    EDITABLE_FIELD_LIST,
    ArchiveContact,
    EditContact,
    MergeContacts,
    PreviewMerge,
    RestoreContact,
)
from core.deliveries.commands import ListDeliveryProblems
from core.errors import DatabaseUnavailable, PipedrivenError, SchemaTooNew
from core.housekeeping.commands import PruneHistory
from core.housekeeping.handlers import DELIVERY_RETENTION, PROCESSED_REQUEST_RETENTION
from core.learning.commands import MethodRatesTable
from core.privacy.commands import EraseContact, ExportContact, ListAudit, PreviewErasure
from core.settings import Settings
from core.stats.commands import Heatmap
from core.users.commands import CreateUser, IssueLinkCode, ListUsers, SetUserActive, SetUserRole
from core.vocabulary import ROLES
from core.wording import plural

log = logging.getLogger("pipedriven")

DEMO_DATABASE = "pipedriven_demo"


NO_USERS = (
    "No users yet. Add one with `pipedriven users add EMAIL --name NAME` "
    "(the demo's data lives in a database of its own: `pipedriven demo`)."
)


class CliError(Exception):
    """A one-line reason to stop."""


# Messages written for the chat tell the user what to say; the command line tells them what to run instead.
_SAY = re.compile(r"\b([Ss])ay `([^`]+)`")
_CLI_COMMANDS = {
    "campaigns": "pipedriven campaigns",
    "sync": "pipedriven sync status",
    "cadence list": "pipedriven cadences list",
}


def cli_words(text: str) -> str:
    """A chat message's “say `campaigns`” as “run `pipedriven campaigns`”; the rest as it is."""

    def swap(say: re.Match) -> str:
        chat = say[2]
        if chat.startswith(("sync retry ", "restore ")):
            command = "pipedriven " + ("contacts " if chat.startswith("restore ") else "") + chat
        else:
            command = _CLI_COMMANDS.get(chat)
        return f"{'R' if say[1] == 'S' else 'r'}un `{command}`" if command else say[0]

    return _SAY.sub(swap, text)


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic's validation error names the bad variable
        raise CliError(f"bad configuration: {str(exc).splitlines()[0]}") from None


def _with_core(settings: Settings, body: Callable, *, database: str = db.DEFAULT_DATABASE, reset: bool = False):
    """Open the database (embedded or DATABASE_URL), migrate it, and run `body(core)` on an event loop."""
    with db.database_url(settings, database) as url:
        if reset:
            db.drop_database(url)
            db.ensure_database(url)
        migrate(url)

        async def main():
            async with open_core(settings, url) as core:
                return await body(core)

        return asyncio.run(main())


def cmd_db(args, settings: Settings) -> int:
    if args.db_command == "prune":

        async def prune(core):
            pruned = await core.execute(PruneHistory())
            keys = "request key" if pruned.requests == 1 else "request keys"
            deliveries = "finished delivery" if pruned.deliveries == 1 else "finished deliveries"
            print(
                f"Removed {pruned.requests} {keys} older than {PROCESSED_REQUEST_RETENTION.days} "
                f"days and {pruned.deliveries} {deliveries} older than {DELIVERY_RETENTION.days} "
                f"days." + (f" {pruned.drafts} unconfirmed preview(s) older than a day." if pruned.drafts else "")
            )

        _with_core(settings, prune)
        return 0
    with db.database_url(settings) as url:
        migrate(url)
        print(f"Database is at revision {db.current_revision(url)}.")
    return 0


def cmd_users(args, settings: Settings) -> int:
    async def add(core):
        user = await core.execute(
            CreateUser(
                name=args.name or args.email.split("@")[0].title(),
                email=args.email,
                role=args.role,
                timezone=args.timezone,
            )
        )
        print(f"Added {user.name} <{user.email}> ({user.role}, {user.timezone}).")

    async def list_(core):
        result = await core.execute(ListUsers())
        problems = await core.execute(ListDeliveryProblems())
        if not result.users:
            print(NO_USERS)
        for u in result.users:
            print(
                f"{u.id:>4}  {u.name:<24} {u.email:<32} {u.role:<14} {u.timezone}"
                + ("" if u.active else "  (inactive)")
            )
            for problem in (p for p in problems if p.user_id == u.id):
                print(
                    f"      ⚠ {problem.platform} {problem.external_user_id}: undeliverable since "
                    f"{problem.failed_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC: {problem.error}"
                )

    async def link(core):
        from bot.render import result as render_result

        user = await core.user_by_email(args.email)
        if settings.telegram_bot_token and not settings.telegram_bot_username:
            from bot.telegram.app import fetch_username

            settings.telegram_bot_username = await fetch_username(settings)  # for the t.me link
        print(render_result(await core.execute(IssueLinkCode(Actor(user.id, "cli"), "telegram")), user).text)

    async def set_active(core):
        user = await core.execute(SetUserActive(args.email, active=args.users_command == "activate"))
        if user.active:
            print(f"{user.name} <{user.email}> is active again: digests, nudges and the chat work for them.")
        else:
            print(
                f"Deactivated {user.name} <{user.email}>: no digests or nudges, and the chat no longer acts for them."
            )

    async def set_role(core):
        user = await core.execute(SetUserRole(args.email, args.role))
        print(f"{user.name} <{user.email}> is now {user.role}.")

    _with_core(
        settings,
        {
            "add": add,
            "list": list_,
            "link": link,
            "activate": set_active,
            "deactivate": set_active,
            "role": set_role,
        }[args.users_command],
    )
    return 0


async def _console(core, email: str, *, show_digest: bool) -> None:
    from bot.console import ConsoleChat
    from bot.console.notifier import ConsoleNotifier
    from bot.notify import ChatTarget

    user = await core.user_by_email(email)
    chat = ConsoleChat(core, user)
    if show_digest:
        # Printed by the console's notifier, the port the scheduler delivers digests through; its buttons'
        # labels then work in this chat.
        digest = await chat.conversation.digest(user)
        if digest:
            await ConsoleNotifier(sys.stdout, chat).send(
                ChatTarget(user.id, chat.conversation.platform, user.email), digest
            )
        else:
            print("Nothing to suggest today.")
        print()
    if sys.stdin.isatty():
        print(
            f"Chatting as {user.name}. Numbers are rows (`log 1 linkedin`); type a button's label, like 1a, to "
            "press it; `undo` takes back your last log or edit; `help` for commands, `quit` to leave."
        )
    await chat.run()


def cmd_console(args, settings: Settings) -> int:
    _with_core(settings, lambda core: _console(core, args.as_email, show_digest=False))
    return 0


def cmd_demo(args, settings: Settings) -> int:
    from core.demo import DEMO_USER_EMAIL, seed

    async def body(core):
        if await seed(core):
            print("Created the demo database: 4 users, 3 campaigns (2 live), ~500 contacts with history.")
        print(f"Morning digest for {DEMO_USER_EMAIL}:\n")
        await _console(core, DEMO_USER_EMAIL, show_digest=True)

    _with_core(settings, body, database=DEMO_DATABASE, reset=args.reset)
    return 0


def cmd_stats(args, settings: Settings) -> int:
    from bot.grammar import parse
    from bot.render import stats_table
    from core.clock import SystemClock

    chart_format = _chart_format(args.chart) if args.chart else None

    async def body(core):
        actor = Actor(0, "cli")
        if args.as_email:
            actor = Actor((await core.user_by_email(args.as_email)).id, "cli")
        command = parse("stats " + _words(args.words), actor, SystemClock().now().astimezone())
        report = await core.execute(command)
        if not (await core.execute(ListUsers())).users:
            print(NO_USERS, file=sys.stderr)  # stderr: `--csv` may be writing to stdout
        return report

    report = _with_core(settings, body)
    if isinstance(report, Heatmap):
        return _heatmap_out(report, args, chart_format)
    if isinstance(report, StrategyAnalytics):
        return _cadences_out(report, args, chart_format)
    if isinstance(report, MethodRatesTable):
        return _method_rates_out(report, args)
    if args.chart:
        from bot.charts import funnel_chart

        _write(args.chart, funnel_chart(report, format=chart_format))
        print(f"Chart written to {os.path.abspath(args.chart)}", file=sys.stderr if args.csv == "-" else sys.stdout)
    if args.csv is not None:
        from bot.export import stats_csv

        if args.csv == "-":
            sys.stdout.write(stats_csv(report))
            return 0
        _write(args.csv, stats_csv(report).encode("utf-8-sig"))  # the BOM makes Excel read it as UTF-8
        print(f"Wrote {args.csv}.")
        if not args.chart:
            return 0
    head, table = stats_table(report)
    print(head)
    print(table)
    return 0


def _heatmap_out(heatmap: Heatmap, args, chart_format: str | None) -> int:
    """A heatmap's lines on standard output, its picture into `--chart FILE`."""
    from bot.render import heatmap_text

    if args.csv is not None:
        raise CliError("--csv exports the stats table; a heatmap is drawn with --chart FILE")
    print(heatmap_text(heatmap))
    if args.chart:
        from bot.charts import heatmap_chart

        _write(args.chart, heatmap_chart(heatmap, format=chart_format or "png"))
        print(f"Chart written to {os.path.abspath(args.chart)}")
    return 0


def _cadences_out(report: StrategyAnalytics, args, chart_format: str | None) -> int:
    """Strategy analytics' table on standard output, its chart into `--chart FILE`."""
    from bot.render import strategy_analytics_table

    if args.csv is not None:
        raise CliError("--csv exports the stats table; cadence analytics are drawn with --chart FILE")
    print("\n\n".join(strategy_analytics_table(report)))
    if args.chart:
        from bot.charts import cadence_chart

        _write(args.chart, cadence_chart(report, format=chart_format or "png"))
        print(f"Chart written to {os.path.abspath(args.chart)}")
    return 0


def _method_rates_out(rates: MethodRatesTable, args) -> int:
    from bot.render import method_rates_table

    if args.csv is not None or args.chart:
        raise CliError("`stats methods` prints its table; --csv and --chart are for the stats table")
    head, table = method_rates_table(rates)
    print(head)
    if table is not None:
        print(table)
    return 0


def cmd_learn(args, settings: Settings) -> int:
    """Fit the method rates now, on the whole team's history (the scheduler does it every night)."""
    from bot.render import refit_text
    from core.learning.commands import RefitMethodRates

    async def body(core):
        print(refit_text(await core.execute(RefitMethodRates())))

    _with_core(settings, body)
    return 0


def cmd_rules(args, settings: Settings) -> int:
    """The team's rules from outcomes; `set NAME DAYS` (or `default`) changes one for the whole team."""
    from bot.render import outcome_rules_text
    from core.rules.commands import SetOutcomeRule, ShowOutcomeRules

    words = args.words
    if not words:
        command: ShowOutcomeRules | SetOutcomeRule = ShowOutcomeRules()
    elif len(words) == 3 and words[0] == "set" and (words[2].isdigit() or words[2] in ("default", "reset")):
        command = SetOutcomeRule(None, words[1], int(words[2]) if words[2].isdigit() else None)
    else:
        raise CliError("Say `pipedriven rules`, or `pipedriven rules set NAME DAYS` (`default` puts one back).")

    async def body(core):
        print(outcome_rules_text(await core.execute(command)))

    _with_core(settings, body)
    return 0


def _chart_format(path: str) -> str:
    """The chart's format from its file's extension: .png or .svg."""
    from bot.charts import CHART_FORMATS

    extension = os.path.splitext(path)[1].lower().lstrip(".")
    if extension not in CHART_FORMATS:
        raise CliError(f"--chart writes {' or '.join('.' + f for f in CHART_FORMATS)} files, not {path}")
    return extension


def _write(path: str, data: bytes) -> None:
    try:
        with open(path, "wb") as out:
            out.write(data)
    except OSError as exc:
        raise CliError(f"can't write {path}: {exc.strerror}") from None


def _words(words: list[str]) -> str:
    """Command-line arguments back into chat words: an argument with spaces was one thing, so quote it."""
    return " ".join(f'"{word}"' if " " in word.strip() else word for word in words)


def cmd_campaigns(args, settings: Settings) -> int:
    from bot.console import render_text
    from bot.grammar import Help, help_text, parse
    from bot.render import result
    from core.campaigns.commands import ListCampaigns
    from core.clock import SystemClock

    async def body(core):
        if not args.as_email:
            if args.words and args.words[0] not in ("list", "ls"):
                raise CliError("say who is acting: --as EMAIL (creating and editing is for the Golden Ticket team)")
            user = None
            reply = result(await core.execute(ListCampaigns(Actor(0, "cli"))), None)
        else:
            user = await core.user_by_email(args.as_email)
            now = SystemClock().now().astimezone()
            command = parse("campaign " + _words(args.words), Actor(user.id, "cli"), now)
            if isinstance(command, Help):
                print(help_text("campaign"))
                return
            reply = result(await core.execute(command), user)
        print(cli_words(render_text(reply)[0]))

    _with_core(settings, body)
    return 0


def cmd_cadences(args, settings: Settings) -> int:
    """The chat's `cadence` commands for scripts and set-up; acting as a user (--as) where one is needed."""
    from bot import render
    from core.cadences.commands import (
        AddStrategyStep,
        CreateStrategy,
        GetCadenceStats,
        ListDueSteps,
        ListStrategies,
        ShowStrategy,
        StartCadence,
    )
    from core.command import CampaignRef, ContactRef

    async def body(core):
        user = await core.user_by_email(args.as_email) if args.as_email else None
        if user is None and args.cadences_command in ("new", "add-step", "start", "due"):
            raise CliError(f"`cadences {args.cadences_command}` acts as a user: add --as EMAIL")
        actor = Actor(user.id if user else 0, "cli")
        command = {
            "list": lambda: ListStrategies(actor),
            "show": lambda: ShowStrategy(actor, args.name),
            "new": lambda: CreateStrategy(actor, args.name, args.description),
            "add-step": lambda: AddStrategyStep(actor, args.name, args.days, args.kind, args.subject, args.message),
            "start": lambda: StartCadence(
                actor,
                args.name,
                contact=args.contact and ContactRef.of(args.contact),
                campaign=args.campaign and CampaignRef.of(args.campaign),
            ),
            "due": lambda: ListDueSteps(actor),
            "stats": lambda: GetCadenceStats(actor),
        }[args.cadences_command]()
        result = await core.execute(command)
        if args.cadences_command == "stats":
            print("\n\n".join(part for part in render.cadence_stats_table(result) if part))
            return
        if args.cadences_command in ("new", "add-step"):  # the chat's hint on adding steps doesn't apply here
            print(f"{result.message}\n{render.strategy_text(result.strategy)}")
            return
        reply = render.result(result, user)
        print(cli_words("\n".join([reply.text, *(section.text for section in reply.sections)])))

    _with_core(settings, body)
    return 0


def cmd_import(args, settings: Settings) -> int:
    from tqdm import tqdm

    from bot.render import import_summary
    from core.command import CampaignRef
    from core.importing.commands import ImportContacts

    async def body(core):
        user = await core.user_by_email(args.user)
        with tqdm(
            total=None,
            unit=" rows",
            desc="reading",
            file=sys.stderr,
            disable=None if not args.progress else False,
            dynamic_ncols=True,
            mininterval=0,  # a refresh a batch of rows: few enough to show every one
            miniters=1,
            # No percentage: it would round the last row, held back until the import is saved, up to 100%.
            bar_format="{desc}: {n_fmt}/{total_fmt}{unit} |{bar}| [{elapsed}<{remaining}, {rate_fmt}]",
        ) as bar:

            def progress(written: int, rows: int) -> None:
                # The bar reaches the file's row count only once the import is saved, after `execute`.
                bar.total = max(rows, 1)
                if written >= rows > 0:
                    bar.set_description_str("saving", refresh=False)
                bar.update(min(written, bar.total - 1) - bar.n)

            report = await core.execute(
                ImportContacts(
                    Actor(user.id, "cli"),
                    args.file,
                    mode="skip" if args.skip else "update",
                    phone_region=args.region,
                    campaign=CampaignRef.of(args.campaign) if args.campaign else None,
                    progress=progress,
                )
            )
            bar.total = max(report.rows, 1)
            bar.set_description_str("saved", refresh=False)
            bar.update(bar.total - bar.n)
            return report

    more = "" if args.show_collisions else "--show-collisions names them"
    summary, rows = import_summary(
        _with_core(settings, body), limit=None, collisions=None if args.show_collisions else 0, more=more
    )
    print(summary)
    if rows:
        print(rows)


def _person(value: str) -> ContactRef:
    """EMAIL_OR_ID: a contact id, or an email matched in every bank."""
    value = value.strip()
    return ContactRef(id=int(value)) if value.isdigit() else ContactRef(text=value)


async def _operator(core, email: str) -> Actor:
    """The CLI acts as the user named by --by; the core checks that they hold a Golden Ticket."""
    return Actor((await core.user_by_email(email)).id, "cli")


def _write_private(path: str, text: str) -> None:
    """Write an export readable by its owner only: it is a person's data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
        out.write(text)


def cmd_contacts(args, settings: Settings) -> int:
    from core.privacy.handlers import export_csv, export_json

    async def export(core):
        result = await core.execute(
            ExportContact(await _operator(core, args.by), _person(args.person), every_bank=True)
        )
        document = export_json(result) if args.format == "json" else export_csv(result)
        if args.out:
            _write_private(args.out, document)
        else:
            sys.stdout.write(document)
        rows = sum(len(section.rows) for section in result.sections)
        where = f" to {args.out}" if args.out else ""
        ids = ", ".join(map(str, result.contact_ids))
        which = "contact" if len(result.contact_ids) == 1 else "contacts"
        print(f"Exported {which} {ids}: {plural(rows, 'row')}{where}.", file=sys.stderr)
        if result.pipedrive_person_ids:
            print(
                f"Pipedrive holds its own copy (person {', '.join(map(str, result.pipedrive_person_ids))}): "
                "export it from Pipedrive too.",
                file=sys.stderr,
            )

    async def erase(core):
        actor, person = await _operator(core, args.by), _person(args.person)
        if not args.yes:
            preview = await core.execute(PreviewErasure(actor, person, every_bank=True))
            owners = {u.id: u.name for u in (await core.execute(ListUsers())).users}
            print("This erases, for good:")
            for k in preview.contacts:
                print(
                    f"  contact {k.id}: {k.label} in {owners.get(k.owner_id, '?')}'s bank"
                    + (f" (Pipedrive person {k.pipedrive_person_id})" if k.pipedrive_person_id else "")
                )
            print(
                f"  with {plural(preview.follow_ups, 'follow-up')}, "
                f"{plural(preview.campaign_memberships, 'campaign membership')}, "
                f"{plural(preview.sync_messages, 'sync message')}; "
                f"{plural(preview.activities, 'activity')} {'stays' if preview.activities == 1 else 'stay'} "
                "in the numbers, anonymous."
            )
            print("Type `erase` to go ahead: ", end="", flush=True)
            if sys.stdin.readline().strip().lower() != "erase":
                raise CliError("nothing erased.")
        result = await core.execute(EraseContact(actor, person, every_bank=True))
        print(result.message)

    async def edit(core):
        user = await core.user_by_email(args.as_email)
        command = EditContact(Actor(user.id, "cli"), _person(args.contact), args.field, " ".join(args.value))
        print((await core.execute(command)).message)

    async def remove(core):
        user = await core.user_by_email(args.as_email)
        print((await core.execute(ArchiveContact(Actor(user.id, "cli"), _person(args.contact)))).message)

    async def restore(core):
        user = await core.user_by_email(args.as_email)
        print((await core.execute(RestoreContact(Actor(user.id, "cli"), _person(args.contact)))).message)

    async def merge(core):
        from bot.render import result as render_result

        user = await core.user_by_email(args.as_email)
        actor, keep, other = Actor(user.id, "cli"), _person(args.keep), _person(args.other)
        if not args.yes:
            preview = await core.execute(PreviewMerge(actor, keep, other))
            print(render_result(preview, user).text)
            print("Type `merge` to go ahead: ", end="", flush=True)
            if sys.stdin.readline().strip().lower() != "merge":
                raise CliError("nothing merged.")
        print((await core.execute(MergeContacts(actor, keep, other))).message)

    commands = {"export": export, "erase": erase, "edit": edit, "remove": remove, "restore": restore, "merge": merge}
    _with_core(settings, commands[args.contacts_command])
    return 0


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        since = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CliError("--since takes a date like 2026-11-01 (or 2026-11-01T09:00, in UTC).") from None
    return since if since.tzinfo else since.replace(tzinfo=UTC)


def cmd_audit(args, settings: Settings) -> int:
    since = _since(args.since)

    async def body(core):
        result = await core.execute(ListAudit(user_email=args.user, since=since, limit=args.limit))
        if not result.entries:
            print("No audit entries" + (" match." if args.user or since else " yet."))
        for e in result.entries:
            who = e.user_email or (f"user #{e.user_id}" if e.user_id is not None else "(cli operator)")
            ids = " · ".join(
                f"{kind} {', '.join(map(str, values))}"
                for kind, values in (
                    ("contact", e.contact_ids),
                    ("activity", e.activity_ids),
                    ("campaign", e.campaign_ids),
                    ("user", e.user_ids),
                )
                if values
            )
            print(
                f"{e.occurred_at.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z  {who:<28} {e.platform:<9} "
                f"{e.command:<18} {ids}".rstrip()
            )

    _with_core(settings, body)
    return 0


def cmd_sync(args, settings: Settings) -> int:
    """`sync status`: everyone's Pipedrive syncs (or one user's); `sync retry ID... | --all`: queue failed ones."""
    from bot.render import sync_text
    from core.sync.commands import ListSyncs, RetrySyncs

    async def body(core):
        actor = Actor((await core.user_by_email(args.as_email)).id, "cli") if args.as_email else None
        if args.sync_command == "status":
            print(
                cli_words(
                    sync_text(
                        await core.execute(ListSyncs(actor, limit=args.limit)),
                        settings.default_timezone,
                        show_user=actor is None,
                    )
                )
            )
            return
        if not args.ids and not args.all:
            raise CliError("say which syncs to retry: their numbers, or --all")
        print((await core.execute(RetrySyncs(actor, ids=tuple(args.ids), all_failed=args.all))).message)

    _with_core(settings, body)
    return 0


def cmd_pipedrive_token(args, settings: Settings) -> int:
    """A user's own Pipedrive API token, read from standard input so that it never sits in the shell history."""
    import getpass

    from core import encryption
    from core.sync.commands import SetPipedriveToken

    token = None
    if not args.clear:
        encryption.keys(settings)  # no key, no token to store: say so before asking for one
        token = (getpass.getpass("Pipedrive API token: ") if sys.stdin.isatty() else sys.stdin.readline()).strip()
        if not token:
            raise CliError("no token given (pipe it in, or type it at the prompt; --clear removes one)")

    async def body(core):
        print((await core.execute(SetPipedriveToken(args.email, token))).message)

    _with_core(settings, body)
    return 0


def cmd_secrets(args, settings: Settings) -> int:
    """`secrets new-key`: a fresh key for PIPEDRIVEN_SECRET_KEY; `secrets rotate`: every stored secret encrypted
    again with its first key (plain-text ones from before encryption too)."""
    from core import encryption
    from core.sync.commands import RotateSecrets

    if args.secrets_command == "new-key":
        print(encryption.new_key())
        return 0
    done = _with_core(settings, lambda core: core.execute(RotateSecrets()))
    plain = f" ({done.were_plain_text} of them in plain text)" if done.were_plain_text else ""
    print(f"Encrypted {plural(done.rotated, 'stored secret')} with the first key of PIPEDRIVEN_SECRET_KEY{plain}.")
    if done.unreadable_emails:
        raise CliError(
            f"no key in PIPEDRIVEN_SECRET_KEY decrypts the stored token of "
            f"{', '.join(done.unreadable_emails)}: put its key back, or set it again with "
            f"`pipedriven users pipedrive-token EMAIL`"
        )
    return 0


def cmd_pipedrive(args, settings: Settings) -> int:
    """`pipedrive setup`: the campaign source field and the warm label, created when missing; `pipedrive webhooks
    install|list|remove`: the webhooks that bring Pipedrive's changes back."""
    from pipedrive import setup
    from pipedrive.client import company_client
    from pipedrive.errors import PipedriveError

    async def body() -> list[str]:
        client = company_client(settings)
        try:
            if args.pipedrive_command == "setup":
                return await setup.set_up(client, settings)
            if args.webhooks_command == "list":
                url = args.url or settings.pipedrive_webhook_url
                return setup.webhook_lines(list(await client.webhooks()), url)
            url = setup.webhook_url(settings, args.url)
            if args.webhooks_command == "install":
                return await setup.install_webhooks(client, settings, url)
            return await setup.remove_webhooks(client, url)
        finally:
            await client.aclose()

    try:
        lines = asyncio.run(body())
    except PipedriveError as exc:
        raise CliError(str(exc)) from None
    print("\n".join(lines))
    return 0


def cmd_doctor(args, settings: Settings) -> int:
    """One line per check, ✓ or ✗ with what to fix; 1 when any failed."""
    from bot.doctor import run_checks

    checks = asyncio.run(run_checks(settings))
    print("\n".join(check.line for check in checks))
    return 1 if any(check.ok is False for check in checks) else 0


def cmd_run(args, settings: Settings) -> int:
    from bot.runner import NothingToRun, run_forever

    try:
        _with_core(settings, lambda core: run_forever(settings, core))
    except NothingToRun as exc:
        raise CliError(str(exc)) from None
    return 0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pipedriven")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pipedriven", description="Chat-first outreach logger.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}", help="print the version")
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", help="what to do (`pipedriven COMMAND -h` for its options)"
    )
    dbp = sub.add_parser("db", help="database tasks")
    dbp.add_argument(
        "db_command",
        choices=["upgrade", "prune"],
        help="upgrade: apply migrations; prune: trim old request keys and deliveries (also hourly)",
    )
    dbp.set_defaults(func=cmd_db)
    sub.add_parser("run", help="run the bot (Slack, Telegram, scheduler)").set_defaults(func=cmd_run)
    sub.add_parser(
        "doctor", help="check the database, migrations, Slack, Telegram and Pipedrive set-up; says what to fix"
    ).set_defaults(func=cmd_doctor)
    demo = sub.add_parser("demo", help="a demo database, the morning digest and the console")
    demo.add_argument("--reset", action="store_true", help="start the demo data afresh")
    demo.set_defaults(func=cmd_demo)
    con = sub.add_parser("console", help="chat in the terminal")
    con.add_argument("--as", dest="as_email", required=True, metavar="EMAIL", help="the user you chat as")
    con.set_defaults(func=cmd_console)
    users = sub.add_parser("users", help="manage users")
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION", help="what to do")
    add = users_sub.add_parser("add", help="add a user")
    add.add_argument("email", help="the user's email (how they are found in Slack and in commands)")
    add.add_argument("--name", help="their name (default: from the email)")
    add.add_argument("--role", default="consultant", help="consultant or golden_ticket")
    add.add_argument("--timezone", default=None, help="e.g. Europe/London")
    users_sub.add_parser("list", help="list users")
    link = users_sub.add_parser("link", help="a one-time code that links the user's Telegram account")
    link.add_argument("email", help="the user's email")
    for name, about in (
        ("deactivate", "stop a user: no digests or nudges, and the chat no longer acts for them"),
        ("activate", "let a deactivated user back in"),
    ):
        users_sub.add_parser(name, help=about).add_argument("email", help="the user's email")
    role = users_sub.add_parser("role", help="change a user's role")
    role.add_argument("email", help="the user's email")
    role.add_argument("role", choices=ROLES, help=" or ".join(ROLES))
    users.set_defaults(func=cmd_users)
    token = users_sub.add_parser("pipedrive-token", help="set a user's own Pipedrive API token (from stdin)")
    token.add_argument("email", help="the user's email")
    token.add_argument("--clear", action="store_true", help="remove it: the company token applies again")
    token.set_defaults(func=cmd_pipedrive_token)
    secrets = sub.add_parser("secrets", help="the key that encrypts stored secrets (users' own Pipedrive tokens)")
    secrets_sub = secrets.add_subparsers(dest="secrets_command", required=True, metavar="ACTION", help="what to do")
    secrets_sub.add_parser("new-key", help="print a fresh key for PIPEDRIVEN_SECRET_KEY")
    secrets_sub.add_parser("rotate", help="encrypt every stored secret again with PIPEDRIVEN_SECRET_KEY's first key")
    secrets.set_defaults(func=cmd_secrets)
    sync = sub.add_parser("sync", help="Pipedrive syncs: status, or retry failed ones")
    sync_sub = sync.add_subparsers(dest="sync_command", required=True, metavar="ACTION", help="what to do")
    status = sync_sub.add_parser("status", help="waiting, done and failed syncs, with reasons")
    status.add_argument("--as", dest="as_email", metavar="EMAIL", help="only this user's")
    status.add_argument("--limit", type=int, default=15, help="done and failed syncs to show (default 15)")
    retry = sync_sub.add_parser("retry", help="queue failed syncs again")
    retry.add_argument("ids", nargs="*", type=int, metavar="ID", help="the syncs' numbers, as `sync status` shows them")
    retry.add_argument("--all", action="store_true", help="every failed sync")
    retry.add_argument("--as", dest="as_email", metavar="EMAIL", help="only this user's")
    sync.set_defaults(func=cmd_sync)
    pd = sub.add_parser("pipedrive", help="set up the Pipedrive company: fields, labels, webhooks")
    pd_sub = pd.add_subparsers(dest="pipedrive_command", required=True, metavar="ACTION", help="what to do")
    pd_sub.add_parser("setup", help="create the campaign source person field and the warm label when missing")
    hooks = pd_sub.add_parser("webhooks", help="the webhooks that bring Pipedrive's changes back")
    hooks_sub = hooks.add_subparsers(dest="webhooks_command", required=True, metavar="ACTION", help="what to do")
    for name, about in (
        ("install", "register the webhooks (person, organization, deal, activity) unless they are there"),
        ("list", "the company's webhooks, ours marked"),
        ("remove", "delete our webhooks (those posting to the URL), no other"),
    ):
        hooks_sub.add_parser(name, help=about).add_argument(
            "--url", help="the public address (default PIPEDRIVE_WEBHOOK_URL), https://HOST/pipedrive/webhook"
        )
    pd.set_defaults(func=cmd_pipedrive)
    stats = sub.add_parser("stats", help="outreach and meeting numbers (same words as the chat's stats)")
    stats.add_argument("words", nargs="*", help="e.g. by method this month")
    stats.add_argument("--as", dest="as_email", metavar="EMAIL", help="the numbers as this user sees them")
    stats.add_argument(
        "--csv", nargs="?", const="-", metavar="FILE", help="export the numbers as CSV (to FILE, or to standard output)"
    )
    stats.add_argument(
        "--chart",
        metavar="FILE",
        help="also draw the funnel chart (the heatmap, the cadences chart) into FILE (.png or .svg)",
    )
    stats.set_defaults(func=cmd_stats)
    sub.add_parser(
        "learn",
        help="fit now which outreach method leads to a meeting, for whom (the scheduler does it every night)",
    ).set_defaults(func=cmd_learn)
    rules = sub.add_parser(
        "rules",
        help="the team's rules from outcomes: after how many days they show in today's list and nudge",
        description="No words: each rule's days. set NAME DAYS: change one for the whole team (default: back to "
        "the setting's).",
    )
    rules.add_argument("words", nargs="*", help="e.g. set meeting_not_booked_days 5")
    rules.set_defaults(func=cmd_rules)
    camps = sub.add_parser(
        "campaigns",
        help="list, create, edit, launch, close, show and fill campaigns",
        description="The chat's campaign words: new NAME [sector X] [theme Y] [geo Z] "
        "[from DATE] [to DATE] · edit NAME FIELD VALUE · live NAME · close NAME "
        "· show NAME · add NAME CONTACT [METHOD]. No words: the list.",
    )
    camps.add_argument("words", nargs="*", help='e.g. new "Fintech Q4" sector fintech geo UK')
    camps.add_argument("--as", dest="as_email", metavar="EMAIL", help="the user acting (required but to list)")
    camps.set_defaults(func=cmd_campaigns)
    imp = sub.add_parser("import", help="import a CSV of contacts into a user's bank")
    imp.add_argument("file", help="the CSV file (UTF-8, UTF-16 or Windows-1252; comma, semicolon or tab)")
    imp.add_argument("--user", required=True, metavar="EMAIL", help="whose bank the contacts go into")
    imp.add_argument("--campaign", metavar="NAME", help="also add every contact to this campaign")
    existing = imp.add_mutually_exclusive_group()
    existing.add_argument("--update", action="store_true", help="update existing contacts (the default)")
    existing.add_argument("--skip", action="store_true", help="leave existing contacts as they are")
    imp.add_argument("--region", metavar="CC", help="country for phone numbers without one (default PHONE_REGION)")
    imp.add_argument(
        "--show-collisions", action="store_true", help="name the contacts that are also in a colleague's bank"
    )
    imp.add_argument("--progress", action="store_true", help="show the progress bar even when stderr is not a terminal")
    imp.set_defaults(func=cmd_import)
    contacts = sub.add_parser(
        "contacts",
        help="correct, remove, restore or merge contacts; a person's data, on request: export it or erase it",
    )
    contacts_sub = contacts.add_subparsers(dest="contacts_command", required=True, metavar="ACTION", help="what to do")
    for name, about in (
        ("export", "everything Pipedriven holds about a person, from every bank"),
        ("erase", "remove a person from every table (their activities stay, anonymous)"),
    ):
        action = contacts_sub.add_parser(name, help=about)
        action.add_argument("person", metavar="EMAIL_OR_ID", help="an email (matched in every bank) or a contact id")
        action.add_argument("--by", required=True, metavar="EMAIL", help="you: a Golden Ticket user's email")
    contacts_sub.choices["export"].add_argument(
        "--format", choices=["json", "csv"], default="json", help="json (the default) or csv"
    )
    contacts_sub.choices["export"].add_argument("--out", metavar="FILE", help="write there (mode 600), not stdout")
    contacts_sub.choices["erase"].add_argument("--yes", action="store_true", help="don't ask to confirm")
    edit = contacts_sub.add_parser("edit", help="correct one field of a contact in your bank")
    edit.add_argument("contact", metavar="CONTACT", help="a contact id, an email or (part of) a name in your bank")
    edit.add_argument("field", metavar="FIELD", help=EDITABLE_FIELD_LIST.replace("past business", "past-business"))
    edit.add_argument("value", metavar="VALUE", nargs="+", help="the new value, e.g. `12k EUR` for past-business")
    edit.add_argument("--as", dest="as_email", required=True, metavar="EMAIL", help="you: whose bank it is in")
    for name, about in (
        ("remove", "take a contact out of your bank: out of every list, its history kept (restore undoes it)"),
        ("restore", "put a removed contact back in your bank"),
    ):
        action = contacts_sub.add_parser(name, help=about)
        action.add_argument("contact", metavar="CONTACT", help="a contact id, an email or (part of) a name")
        action.add_argument("--as", dest="as_email", required=True, metavar="EMAIL", help="you: whose bank it is in")
    merge = contacts_sub.add_parser("merge", help="merge OTHER into KEEP, two contacts of your bank")
    merge.add_argument("keep", metavar="KEEP", help="the contact that stays: an id, an email or (part of) a name")
    merge.add_argument("other", metavar="OTHER", help="the contact merged into it, which then leaves your bank")
    merge.add_argument("--as", dest="as_email", required=True, metavar="EMAIL", help="you: whose bank they are in")
    merge.add_argument("--yes", action="store_true", help="don't ask to confirm")
    contacts.set_defaults(func=cmd_contacts)
    audit = sub.add_parser("audit", help="who did what: the append-only audit trail, oldest first")
    audit.add_argument("--user", metavar="EMAIL", help="only what this user did")
    audit.add_argument("--since", metavar="DATE", help="from this date (UTC), e.g. 2026-11-01")
    audit.add_argument("--limit", type=int, default=500, help="the latest N entries (default 500)")
    audit.set_defaults(func=cmd_audit)
    _cadences_parser(sub)
    return parser


STRATEGY_NAME = "the strategy's name (quote it when it has spaces)"


def _cadences_parser(sub) -> None:
    cad = sub.add_parser("cadences", help="contact strategies: list, show, create, add steps, start, due, stats")
    cad.add_argument("--as", dest="as_email", metavar="EMAIL", help="act as this user")
    cad_sub = cad.add_subparsers(dest="cadences_command", required=True, metavar="ACTION", help="what to do")
    cad_sub.add_parser("list", help="the strategies and their steps")
    cad_sub.add_parser("show", help="one strategy's steps and templates").add_argument("name", help=STRATEGY_NAME)
    new = cad_sub.add_parser("new", help="create a strategy (then add its steps)")
    new.add_argument("name", help=STRATEGY_NAME)
    new.add_argument("--description", help="what the strategy is for")
    step = cad_sub.add_parser("add-step", help="append a step to a strategy")
    step.add_argument("name", help=STRATEGY_NAME)
    step.add_argument("--days", type=int, required=True, help="working days after the previous step (or the start)")
    step.add_argument("--kind", required=True, help="linkedin, email, call, campaign_email, referral or conference")
    step.add_argument("--subject", help="subject template, e.g. 'Following up, {{contact.first_name}}'")
    step.add_argument(
        "--message",
        help="message template; placeholders {{contact.first_name}}, {{contact.name}}, "
        "{{company.name}}, {{user.name}}, {{user.signature}}",
    )
    start = cad_sub.add_parser("start", help="start a strategy for a contact or a campaign")
    start.add_argument("name", help=STRATEGY_NAME)
    target = start.add_mutually_exclusive_group(required=True)
    target.add_argument("--contact", help="an email or (part of) a name in your bank")
    target.add_argument("--campaign", help="every contact of yours in this campaign")
    cad_sub.add_parser("due", help="your cadence steps due now, messages rendered")
    cad_sub.add_parser("stats", help="by strategy: contacts started, replies, meetings, where plans wait")
    cad.set_defaults(func=cmd_cadences)


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", module="platformdirs")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        settings = _settings()
        configure_logging(
            settings,
            quiet=args.command
            in (
                "console",
                "demo",
                "users",
                "stats",
                "db",
                "campaigns",
                "import",
                "contacts",
                "audit",
                "sync",
                "cadences",
                "secrets",
                "pipedrive",
                "doctor",
            ),
        )
        return args.func(args, settings)
    except DatabaseUnavailable as exc:
        log.warning("stopped: the database is not reachable")
        print(f"pipedriven: {exc}", file=sys.stderr)
        return 1
    except SchemaTooNew as exc:
        print(f"pipedriven: {exc}", file=sys.stderr)
        return 2
    except (CliError, PipedrivenError) as exc:
        print(f"pipedriven: {cli_words(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
