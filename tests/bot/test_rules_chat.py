"""The team's rules from outcomes in chat (`rules`, `rules set NAME DAYS` for the Golden Ticket team) and on the
command line (`pipedriven rules`)."""

from bot.console import ConsoleChat


async def test_everyone_sees_the_rules_and_the_golden_ticket_team_changes_them(core, make):
    ana = await make.user("Ana")
    boss = await make.user("Boss", role="golden_ticket")
    shown = await ConsoleChat(core, ana).send("rules")
    assert "• meeting_not_booked_days = 3: a meeting requested but not booked after this many days: nudge" in shown
    refused = await ConsoleChat(core, ana).send("rules set meeting_not_booked_days 5")
    assert "Only the Golden Ticket team can change the team's rules." in refused
    changed = await ConsoleChat(core, boss).send("rules set meeting_not_booked_days 5")
    assert changed.startswith("meeting_not_booked_days is now 5 days for the whole team.")
    assert "• meeting_not_booked_days = 5 (default 3)" in await ConsoleChat(core, ana).send("rules")
    bad = await ConsoleChat(core, boss).send("rules set meeting_not_booked_days soon")
    assert "A rule takes a number of days" in bad and "Traceback" not in bad


def test_rules_on_the_command_line(cli):
    changed = cli("rules", "set", "warm_untouched_days", "21")
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.startswith("warm_untouched_days is now 21 days for the whole team.")
    assert "• warm_untouched_days = 21 (default 14)" in cli("rules").stdout
    bad = cli("rules", "set", "warm_untouched_days", "0")
    assert bad.returncode != 0 and bad.stderr.startswith("pipedriven: A rule counts between 1 and 365 days.")
