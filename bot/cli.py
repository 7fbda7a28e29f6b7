"""The `pipedriven` command: set-up, the demo, the console chat, users and stats.

Every failure a user can cause ends with a one-line message on stderr and a non-zero exit, never a trace.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import warnings
from collections.abc import Callable

from bot.bootstrap import configure_logging, migrate, open_core
from core import db
from core.commands import Actor, CreateUser, ListUsers
from core.errors import PipedrivenError
from core.settings import Settings

DEMO_DATABASE = "pipedriven_demo"


class CliError(Exception):
    """A one-line reason to stop."""


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
    with db.database_url(settings) as url:
        migrate(url)
        print(f"Database is at revision {db.current_revision(url)}.")
    return 0


def cmd_users(args, settings: Settings) -> int:
    async def add(core):
        user = await core.execute(CreateUser(name=args.name or args.email.split("@")[0].title(), email=args.email,
                                             role=args.role, timezone=args.timezone))
        print(f"Added {user.name} <{user.email}> ({user.role}, {user.timezone}).")

    async def list_(core):
        result = await core.execute(ListUsers())
        if not result.users:
            print("No users yet. Add one with: pipedriven users add EMAIL --name NAME")
        for u in result.users:
            print(f"{u.id:>4}  {u.name:<24} {u.email:<32} {u.role:<14} {u.timezone}"
                  + ("" if u.active else "  (inactive)"))

    _with_core(settings, add if args.users_command == "add" else list_)
    return 0


async def _console(core, email: str, *, show_digest: bool) -> None:
    from bot.console import ConsoleChat

    user = await core.user_by_email(email)
    chat = ConsoleChat(core, user)
    if show_digest:
        digest = await chat.conversation.digest(user)
        print(await chat.show(digest) if digest else "Nothing to suggest today.")
        print()
    if sys.stdin.isatty():
        print(f"Chatting as {user.name}. Type `help` for commands, a button's number to press it, `quit` to leave.")
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

    async def body(core):
        actor = Actor(0, "cli")
        if args.as_email:
            actor = Actor((await core.user_by_email(args.as_email)).id, "cli")
        command = parse("stats " + " ".join(args.words), actor, SystemClock().now().astimezone())
        head, table = stats_table(await core.execute(command))
        print(head)
        print(table)

    _with_core(settings, body)
    return 0


def cmd_cadences(args, settings: Settings) -> int:
    """The chat's `cadence` commands for scripts and set-up; acting as a user (--as) where one is needed."""
    from bot import render
    from core import commands as c

    async def body(core):
        user = await core.user_by_email(args.as_email) if args.as_email else None
        if user is None and args.cadences_command in ("new", "add-step", "start", "due"):
            raise CliError(f"`cadences {args.cadences_command}` acts as a user: add --as EMAIL")
        actor = Actor(user.id if user else 0, "cli")
        command = {
            "list": lambda: c.ListStrategies(actor),
            "show": lambda: c.ShowStrategy(actor, args.name),
            "new": lambda: c.CreateStrategy(actor, args.name, args.description),
            "add-step": lambda: c.AddStrategyStep(actor, args.name, args.days, args.kind, args.subject,
                                                  args.message),
            "start": lambda: c.StartCadence(actor, args.name, contact=args.contact and c.ContactRef.of(args.contact),
                                            campaign=args.campaign and c.CampaignRef.of(args.campaign)),
            "due": lambda: c.ListDueSteps(actor),
            "stats": lambda: c.GetCadenceStats(actor),
        }[args.cadences_command]()
        result = await core.execute(command)
        if args.cadences_command == "stats":
            print("\n\n".join(part for part in render.cadence_stats_table(result) if part))
            return
        if args.cadences_command in ("new", "add-step"):  # the chat's hint on adding steps doesn't apply here
            print(f"{result.message}\n{render.strategy_text(result.strategy)}")
            return
        reply = render.result(result, user)
        print("\n".join([reply.text, *(section.text for section in reply.sections)]))

    _with_core(settings, body)
    return 0


def cmd_run(args, settings: Settings) -> int:
    from bot.runner import NothingToRun, run_forever

    try:
        _with_core(settings, lambda core: run_forever(settings, core))
    except NothingToRun as exc:
        raise CliError(str(exc)) from None
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pipedriven", description="Chat-first outreach logger.")
    sub = parser.add_subparsers(dest="command", required=True)
    dbp = sub.add_parser("db", help="database tasks")
    dbp.add_argument("db_command", choices=["upgrade"])
    dbp.set_defaults(func=cmd_db)
    sub.add_parser("run", help="run the bot (Slack, Telegram, scheduler)").set_defaults(func=cmd_run)
    demo = sub.add_parser("demo", help="a demo database, the morning digest and the console")
    demo.add_argument("--reset", action="store_true", help="start the demo data afresh")
    demo.set_defaults(func=cmd_demo)
    con = sub.add_parser("console", help="chat in the terminal")
    con.add_argument("--as", dest="as_email", required=True, metavar="EMAIL")
    con.set_defaults(func=cmd_console)
    users = sub.add_parser("users", help="manage users")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add a user")
    add.add_argument("email")
    add.add_argument("--name")
    add.add_argument("--role", default="consultant", help="consultant or golden_ticket")
    add.add_argument("--timezone", default=None, help="e.g. Europe/London")
    users_sub.add_parser("list", help="list users")
    users.set_defaults(func=cmd_users)
    stats = sub.add_parser("stats", help="outreach and meeting numbers (same words as the chat's stats)")
    stats.add_argument("words", nargs="*", help="e.g. by method this month")
    stats.add_argument("--as", dest="as_email", metavar="EMAIL")
    stats.set_defaults(func=cmd_stats)
    _cadences_parser(sub)
    return parser


def _cadences_parser(sub) -> None:
    cad = sub.add_parser("cadences", help="contact strategies: list, show, create, add steps, start, due, stats")
    cad.add_argument("--as", dest="as_email", metavar="EMAIL", help="act as this user")
    cad_sub = cad.add_subparsers(dest="cadences_command", required=True)
    cad_sub.add_parser("list", help="the strategies and their steps")
    cad_sub.add_parser("show", help="one strategy's steps and templates").add_argument("name")
    new = cad_sub.add_parser("new", help="create a strategy (then add its steps)")
    new.add_argument("name")
    new.add_argument("--description")
    step = cad_sub.add_parser("add-step", help="append a step to a strategy")
    step.add_argument("name")
    step.add_argument("--days", type=int, required=True, help="working days after the previous step (or the start)")
    step.add_argument("--kind", required=True, help="linkedin, email, call, campaign_email, referral or conference")
    step.add_argument("--subject", help="subject template, e.g. 'Following up, {{contact.first_name}}'")
    step.add_argument("--message", help="message template; placeholders {{contact.first_name}}, {{contact.name}}, "
                                        "{{company.name}}, {{user.name}}, {{user.signature}}")
    start = cad_sub.add_parser("start", help="start a strategy for a contact or a campaign")
    start.add_argument("name")
    target = start.add_mutually_exclusive_group(required=True)
    target.add_argument("--contact", help="an email or (part of) a name in your bank")
    target.add_argument("--campaign", help="every contact of yours in this campaign")
    cad_sub.add_parser("due", help="your cadence steps due now, messages rendered")
    cad_sub.add_parser("stats", help="by strategy: contacts started, replies, meetings, where plans wait")
    cad.set_defaults(func=cmd_cadences)


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", module="platformdirs")
    args = build_parser().parse_args(argv)
    try:
        settings = _settings()
        configure_logging(settings, quiet=args.command in ("console", "demo", "users", "stats", "db", "cadences"))
        return args.func(args, settings)
    except (CliError, PipedrivenError) as exc:
        print(f"pipedriven: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
