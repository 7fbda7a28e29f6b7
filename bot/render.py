"""Core results to neutral replies: the words and buttons users see, the same on every platform.

Text here is plain (no markup); each platform escapes it and may add its own emphasis.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from functools import singledispatch
from zoneinfo import ZoneInfo

from bot import codec
from bot.grammar import UnclearOrganisation
from bot.replies import Attachment, Button, Reply, Section, and_more
from core.analytics.commands import StrategyAnalytics, WeeklySummary
from core.cadences.commands import CadenceStats, DueStep, DueSteps, PlanView, StrategyList, StrategyResult, StrategyView
from core.cadences.templates import PLACEHOLDER_LIST
from core.campaigns.commands import CampaignDetail, CampaignList, CampaignResult
from core.contacts.commands import (
    ContactDetail,
    ContactList,
    MergePreview,
    MergeResult,
    RemovalPreview,
    RemovedList,
    TeamContactList,
)
from core.deliveries.commands import RuleNudge
from core.echo import quoted, shorten
from core.errors import AmbiguousContact, ContactRemoved
from core.feed.commands import HomeView, Suggestions
from core.importing.commands import ImportReport
from core.learning.commands import MethodRatesTable, RefitResult
from core.outreach.commands import InteractionDraft
from core.privacy.commands import ContactExport, ErasurePreview, ErasureResult
from core.rules.commands import OutcomeRulesView
from core.stats.commands import Heatmap, StatsReport
from core.sync.commands import InboundEventView, SyncItemView, SyncList, SyncRetried
from core.users.commands import ChatLinked, LinkCodeIssued
from core.validation import METHOD_LABELS, PLATFORM_NAMES, display_phone
from core.views import ActionResult, AlreadyDone, Collision, ContactView, FollowUpView, SettingsView, UserView
from core.wording import plural

QUICK_METHODS = ("linkedin", "email", "call")
EMAIL_KINDS = ("email", "campaign_email")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
END_REASONS = {
    "finished": "all steps done",
    "replied": "they replied",
    "meeting_booked": "meeting booked",
    "not_interested": "not interested",
    "stopped": "stopped",
    "restarted": "restarted",
}


def quick_buttons(contact_id: int, first: str | None = None) -> tuple[Button, ...]:
    """The one-tap methods; `first`, the method most likely to work for this contact, leads."""
    methods = ((first,) if first else ()) + tuple(m for m in QUICK_METHODS if m != first)
    return tuple(Button(f"{METHOD_LABELS[m]} ✓", codec.encode("log", contact_id, m)) for m in methods)


def menu_buttons(contact_id: int) -> tuple[Button, ...]:
    """The overflow actions of a row (Slack allows at most 5 overflow options; the rest go under “more”)."""
    return (
        Button("🔥 Flag warm", codec.encode("warm", contact_id)),
        Button("📨 Meeting requested", codec.encode("mreq", contact_id)),
        Button("📅 Meeting booked…", codec.encode("mbook", contact_id)),
        Button("📝 Add note…", codec.encode("note", contact_id)),
        Button("⏰ Remind in 3 days", codec.encode("remind", contact_id, "3d")),
    )


def extra_buttons(contact_id: int) -> tuple[Button, ...]:
    return (
        Button("💤 Snooze 1 week", codec.encode("snooze", contact_id, "1w")),
        Button("⏰ Remind on…", codec.encode("remind", contact_id)),
        Button("💤 Snooze until…", codec.encode("snooze", contact_id)),
        Button("✓ Follow-up done", codec.encode("done", contact_id)),
        Button("Campaign email ✓", codec.encode("log", contact_id, "campaign_email")),
        Button("Referral ✓", codec.encode("log", contact_id, "referral")),
        Button("Conference ✓", codec.encode("log", contact_id, "conference")),
    )


def contact_row(
    contact: ContactView, detail: str, rank: int | None = None, step: DueStep | None = None, first: str | None = None
) -> Section:
    """A contact with its reason; a due cadence step adds its message, ready to copy, and its buttons (the step's
    method first); else `first`, the method most likely to work, leads the quick buttons."""
    prefix = f"{rank}. " if rank is not None else ""
    lines = [f"{prefix}{contact.label}", detail, step_text(step) if step else ""]
    buttons = step_buttons(contact.id, step.kind) if step else quick_buttons(contact.id, first)
    return Section(
        text="\n".join(line for line in lines if line),
        buttons=buttons,
        menu=menu_buttons(contact.id),
        contact_id=contact.id,
        number=rank,
    )


def step_text(step: DueStep) -> str:
    """The rendered subject and message of a due step (no email is sent: the user copies it)."""
    lines = []
    if step.subject:
        lines.append(f"✉️ Subject: {step.subject}" if step.kind in EMAIL_KINDS else f"➜ {step.subject}")
    if step.message:
        lines.append(step.message)
    return "\n".join(lines)


def step_buttons(contact_id: int, kind: str) -> tuple[Button, ...]:
    """The step's own method first (one tap does the step), the other quick methods, then the plan's controls."""
    methods = (kind,) + tuple(m for m in QUICK_METHODS if m != kind)
    return tuple(Button(f"{METHOD_LABELS[m]} ✓", codec.encode("log", contact_id, m)) for m in methods) + (
        Button("⏸ Pause cadence", codec.encode("cpause", contact_id)),
        Button("⏹ Stop cadence", codec.encode("cstop", contact_id)),
    )


def plan_buttons(plan: PlanView | None) -> tuple[Button, ...]:
    """What can be done to a contact's plan in its state: pause or resume, stop, restart."""
    if plan is None:
        return ()
    cid = plan.contact_id
    restart = Button("↺ Restart cadence", codec.encode("crestart", cid))
    if not plan.is_open:
        return (restart,)
    hold = (
        Button("▶ Resume cadence", codec.encode("cresume", cid))
        if plan.status == "paused"
        else Button("⏸ Pause cadence", codec.encode("cpause", cid))
    )
    return hold, Button("⏹ Stop cadence", codec.encode("cstop", cid)), restart


def plan_line(plan: PlanView, user: UserView) -> str:
    where = f"step {plan.current_step}/{plan.step_count}"
    if plan.status == "paused":
        return f"Cadence: {plan.strategy}, paused at {where}"
    if not plan.is_open:
        return f"Cadence: {plan.strategy}, {plan.status} ({END_REASONS.get(plan.end_reason, plan.end_reason)})"
    what = f" ({plan.step_kind.replace('_', ' ')})" if plan.step_kind else ""
    due = f" due {local_day(plan.step_due_at, user)}" if plan.step_due_at else ""
    return f"Cadence: {plan.strategy}, {where}{what}{due}"


def suggestions(result: Suggestions, header: str | None = None) -> Reply:
    if not result.items:
        filt = f" for {result.filters}" if result.filters else ""
        return Reply(f"Nothing to suggest{filt} right now. 🎉", ephemeral=True)
    title = header or "Who to contact today" + (f" ({result.filters})" if result.filters else "") + ":"
    rows = tuple(contact_row(s.contact, s.reason, s.rank, s.step, s.method) for s in result.items)
    return Reply(title, rows, ephemeral=True)


def due_steps(result: DueSteps, header: str = "Cadence steps due:") -> Reply:
    """Due steps as contact rows (for `cadence due`, and for the scheduler's nudges)."""
    if not result.items:
        return Reply("No cadence step is due. 🎉", ephemeral=True)
    return Reply(
        header, tuple(contact_row(s.contact, s.reason, i, s) for i, s in enumerate(result.items, 1)), ephemeral=True
    )


def ambiguous(error: AmbiguousContact, original: str) -> Reply:
    """Offer the matching contacts; a pick shows the contact with its buttons."""
    rows = tuple(
        Section(
            text=f"{i}. {cand.label}",
            buttons=(Button("Pick", codec.encode("show", cand.contact_id)),),
            contact_id=cand.contact_id,
            number=i,
        )
        for i, cand in enumerate(error.candidates, 1)
    )
    return Reply(str(error), rows, ephemeral=True)


def organisation_choices(error: UnclearOrganisation) -> Reply:
    """Ask which of the words are the organisation; each button adds the contact one way (those too long for a
    button are left out: the question says how to type it)."""
    buttons = []
    for label, words in error.choices:
        try:
            buttons.append(Button(label, codec.encode("add", 0, words)))
        except ValueError:
            continue
    return Reply(str(error), (Section(text="", buttons=tuple(buttons)),) if buttons else (), ephemeral=True)


def more_menu(contact: ContactView, plan: PlanView | None = None) -> Reply:
    """Every action on a contact; with its cadence plan, the plan's controls too."""
    return Reply(
        f"More for {contact.label}:",
        (
            Section(
                text="",
                buttons=menu_buttons(contact.id)
                + extra_buttons(contact.id)
                + plan_buttons(plan)
                + edit_button(contact.id)
                + (Button("🗃 Remove from bank…", codec.encode("rm", contact.id)),),
            ),
        ),
        ephemeral=True,
    )


def removed(error: ContactRemoved) -> Reply:
    """An action on a contact removed from the bank: when, with a button that puts it back."""
    return Reply(
        error.user_message, footer=(Button("↩ Restore", codec.encode("restore", error.contact_id)),), ephemeral=True
    )


# --- editing a contact by dialogue (Slack opens a form instead: bot.slack.views) ----------------------------

EDIT_LABEL = "✏️ Edit…"
# The fields the dialogue offers, in the form's order, with their buttons' labels.
EDIT_FIELD_LABELS = {
    "name": "Name",
    "email": "Email",
    "phone": "Phone",
    "organisation": "Organisation",
    "title": "Title",
    "linkedin_url": "LinkedIn URL",
    "sector": "Sector",
    "country": "Country",
    "warmness": "Warmness",
    "past_business": "Past business",
    "notes": "Notes",
}


def edit_button(contact_id: int) -> tuple[Button, ...]:
    return (Button(EDIT_LABEL, codec.encode("edit", contact_id)),)


def edit_fields(contact: ContactView) -> Reply:
    """“Which field?”, a button per field."""
    buttons = tuple(Button(label, codec.encode("edit", contact.id, f)) for f, label in EDIT_FIELD_LABELS.items())
    return Reply(f"Which field of {contact.name}?", (Section(text="", buttons=buttons),), ephemeral=True)


def edit_value(contact: ContactView, field: str) -> str:
    """A field's current value as the edit dialogue and form show it (past business as `12000 EUR`)."""
    if field == "past_business":
        amount = f"{contact.past_business.normalize():f}" if contact.past_business else ""
        return f"{amount} {contact.past_business_currency}" if amount and contact.past_business_currency else amount
    if field == "country":
        return contact.country_name or ""
    value = getattr(contact, field)
    return "" if value is None else str(value)


def edit_question(contact: ContactView, field: str) -> str:
    """“New email for Ana Lima (now ana@x)?”, and how to empty it when it may be."""
    label = EDIT_FIELD_LABELS[field].lower().replace("linkedin", "LinkedIn")
    now = shorten(edit_value(contact, field), 60) or "empty"
    how = {
        "name": "",
        "warmness": " 0 to 5, or cold/warm/hot.",
        "past_business": " An amount with an optional currency: 12000, 12k EUR; - for none.",
        "country": " Its name or two-letter code (Portugal, PT); - empties it.",
    }.get(field, " - empties it.")
    return f"New {label} for {contact.name} (now {now})?{how}"


def local(at, user: UserView) -> str:
    loc = at.astimezone(ZoneInfo(user.timezone))
    return f"{loc:%a} {loc.day} {loc:%b %Y %H:%M}"


def day(at, user: UserView) -> str:
    """The user's local day of a moment: “Tue 24 Nov 2026”."""
    loc = at.astimezone(ZoneInfo(user.timezone))
    return f"{loc:%a} {loc.day} {loc:%b %Y}"


def local_day(at, user: UserView) -> str:
    """A due date: the day alone when it is the start of a day (as cadence steps fall due)."""
    loc = at.astimezone(ZoneInfo(user.timezone))
    return f"{loc:%a} {loc.day} {loc:%b}" + ("" if (loc.hour, loc.minute) == (0, 0) else f" {loc:%H:%M}")


@singledispatch
def result(value, user: UserView) -> Reply:
    return Reply(str(value))


@result.register
def _(value: AlreadyDone, user: UserView) -> Reply:
    return Reply(value.message, ephemeral=True, repeat=True)


@result.register
def _(value: ActionResult, user: UserView) -> Reply:
    undo = None
    if value.undoable and value.contact and value.activity_id:
        undo = Button("↩ Undo", codec.encode("undo", value.contact.id, str(value.activity_id)))
    # An edit's Undo is a button of the answer on every platform, with no time limit.
    footer: tuple[Button, ...] = ()
    if value.edit_id and value.contact:
        footer = (Button("↩ Undo", codec.encode("unedit", value.contact.id, str(value.edit_id))),)
    elif value.restorable and value.contact:
        # A removal's Undo puts the contact back; a new message, so that every platform shows the button.
        return Reply(value.message, footer=(Button("↩ Undo", codec.encode("restore", value.contact.id)),))
    if value.logged_again_after is not None and undo:
        # Logged twice within a minute: a message of its own on every platform, its Undo a button of it.
        return Reply(value.message, footer=(undo,))
    return Reply(
        value.message, replaces_contact_id=value.contact.id if value.contact else None, undo=undo, footer=footer
    )


@result.register
def _(value: Suggestions, user: UserView) -> Reply:
    return suggestions(value)


@result.register
def _(value: ContactList, user: UserView) -> Reply:
    if not value.contacts:
        return Reply(f"No contact in your bank matches {quoted(value.query)}.", ephemeral=True)
    rows = []
    for i, k in enumerate(value.contacts, 1):
        bits = [
            b
            for b in (
                k.email,
                display_phone(k.phone),
                "warm" if k.is_warm else "",
                f"last touch {local(k.last_contacted_at, user)}" if k.last_contacted_at else "never contacted",
            )
            if b
        ]
        rows.append(contact_row(k, " · ".join(bits), i))
    return Reply(f"{plural(len(value.contacts), 'match')} for {quoted(value.query)}:", tuple(rows), ephemeral=True)


@result.register
def _(value: TeamContactList, user: UserView) -> Reply:
    """Every bank's matches, each with the bank it is in and its #ID (for `campaign add NAME #ID`); no row
    numbers or buttons: the chat acts on the user's own bank only."""
    if not value.matches:
        return Reply(f"No contact in anyone's bank matches {quoted(value.query)}.", ephemeral=True)
    lines = [f"{plural(len(value.matches), 'match')} for {quoted(value.query)} in everyone's contacts:"]
    for match in value.matches:
        k = match.contact
        bits = [b for b in (k.email, "warm" if k.is_warm else "", f"{match.owner}'s bank") if b]
        lines.append(f"#{k.id} {k.label} · " + " · ".join(bits))
    return Reply("\n".join(lines), ephemeral=True)


def _money(amount: Decimal, currency: str | None) -> str:
    text = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    return f"{text} {currency}" if currency else text


@result.register
def _(value: ContactDetail, user: UserView) -> Reply:
    k = value.contact
    lines = [f"{k.label}" + (f" — {k.title}" if k.title else "")]
    if value.removed_at is not None:
        lines.append(f"🗃 Removed from your bank on {day(value.removed_at, user)}.")
    lines += [x for x in (k.email, display_phone(k.phone), k.linkedin_url) if x]
    if where := " · ".join(f"{label}: {v}" for label, v in (("Sector", k.sector), ("Country", k.country_name)) if v):
        lines.append(where)
    lines.append(
        f"Warmness {k.warmness}/5"
        + (" (warm)" if k.is_warm else "")
        + (f" · past business {k.past_business:,.0f}" if k.past_business else "")
        + (f" {k.past_business_currency}" if k.past_business and k.past_business_currency else "")
    )
    lines.append(f"Last touch: {local(k.last_contacted_at, user)}" if k.last_contacted_at else "Never contacted")
    if value.campaigns:
        lines.append("Campaigns: " + ", ".join(value.campaigns))
    if value.plan:
        lines.append(plan_line(value.plan, user))
    for f in value.open_follow_ups:
        lines.append(
            f"{'💤 Snoozed until' if f.snoozed else '⏰ Follow-up'} {local(f.due_at, user)}"
            + (f": {f.note}" if f.note else "")
        )
    if value.won_by_currency:
        lines.append("Won in Pipedrive: " + " · ".join(_money(v, c or None) for c, v in value.won_by_currency))
    if value.recent_activities:
        lines.append("Recent:")
        for a in value.recent_activities:
            what = METHOD_LABELS.get(a.kind, a.kind)
            if a.kind == "pipedrive" and a.channel:
                what = f"{a.channel.partition(':')[2]} done in Pipedrive"
            if a.outcome != "none":
                what += f" ({a.outcome.replace('_', ' ')})"
            lines.append(f"  {local(a.occurred_at, user)} {what}" + (f": {a.note}" if a.note else ""))
    for d in value.deals:
        line = f"Deal {d.status} {day(d.at, user)}: {d.title or 'a deal'}, {_money(d.value, d.currency)}"
        lines.append(line + (f" (reason: {d.lost_reason})" if d.status == "lost" and d.lost_reason else ""))
    if k.notes:
        lines.append(f"Notes: {k.notes}")
    if value.pipedrive_owner:
        lines.append(f"Owner in Pipedrive: {value.pipedrive_owner}")
    if value.pipedrive_deleted_at:
        lines.append(f"Deleted in Pipedrive on {day(value.pipedrive_deleted_at, user)}: no longer linked there.")
    elif value.pipedrive_change and value.pipedrive_changed_at:
        lines.append(f"From Pipedrive: {value.pipedrive_change}, {local(value.pipedrive_changed_at, user)}.")
    if value.removed_at is not None:  # out of the bank: putting it back is the one action
        section = Section(
            text="\n".join(lines), buttons=(Button("↩ Restore", codec.encode("restore", k.id)),), contact_id=k.id
        )
        return Reply(k.name, (section,), ephemeral=True)
    section = Section(
        text="\n".join(lines),
        buttons=quick_buttons(k.id) + plan_buttons(value.plan) + edit_button(k.id),
        menu=menu_buttons(k.id),
        contact_id=k.id,
    )
    return Reply(k.name, (section,), ephemeral=True)


@result.register
def _(value: RemovalPreview, user: UserView) -> Reply:
    k = value.contact
    waiting = [
        f"{value.open_follow_ups} open follow-up{'' if value.open_follow_ups == 1 else 's'}"
        if value.open_follow_ups
        else "",
        f"the cadence {value.cadence}" if value.cadence else "",
    ]
    waits = " and ".join(w for w in waiting if w)
    text = (
        f"Remove {k.label} from your bank? They leave today's list, find, campaigns and cadences; their history "
        "stays, and Undo or `restore` puts them back."
        + (f" Kept for when they are back: {waits}." if waits else "")
        + (" Nothing is deleted in Pipedrive." if k.pipedrive_person_id else "")
    )
    return Reply(text, footer=(Button("🗃 Remove", codec.encode("rm", k.id, "y")),), ephemeral=True)


@result.register
def _(value: RemovedList, user: UserView) -> Reply:
    if not value.contacts:
        if value.query:
            return Reply(f"No removed contact matches {quoted(value.query)}.", ephemeral=True)
        return Reply("You have removed no contact from your bank.", ephemeral=True)
    rows = tuple(
        Section(
            text=f"{i}. {r.contact.label}\nremoved {day(r.removed_at, user)}",
            buttons=(Button("↩ Restore", codec.encode("restore", r.contact.id)),),
            contact_id=r.contact.id,
        )
        for i, r in enumerate(value.contacts, 1)
    )
    more = f"\n{and_more(value.more)}" if value.more else ""
    matching = f" matching {quoted(value.query)}" if value.query else ""
    return Reply(f"Removed from your bank{matching} ({len(rows) + value.more}):{more}", rows, ephemeral=True)


@result.register
def _(value: MergePreview, user: UserView) -> Reply:
    keep, other = value.keep, value.other
    text = " ".join(
        [
            f"Merge {other.label} into {keep.label}? {other.name}'s history, notes, follow-ups, cadence and "
            f"campaigns move to {keep.name}, whose empty details are filled from {other.name}'s; {other.name} then "
            "leaves your bank. This can't be undone.",
            *value.notes,
        ]
    )
    return Reply(text, footer=(Button("🔀 Merge", codec.encode("merge", keep.id, str(other.id))),), ephemeral=True)


@result.register
def _(value: MergeResult, user: UserView) -> Reply:
    return Reply(value.message, replaces_contact_id=value.contact.id)


@result.register
def _(value: CampaignList, user: UserView) -> Reply:
    if not value.campaigns:
        return Reply("No open campaigns yet.", ephemeral=True)
    lines = []
    for camp in value.campaigns:
        about = " · ".join(x for x in (camp.sector, camp.theme, camp.geography) if x)
        dates = f" · {camp.start_date:%d %b} – {camp.end_date:%d %b %Y}" if camp.start_date and camp.end_date else ""
        lines.append(
            f"• {camp.name} [{camp.status}] — {plural(camp.contact_count, 'contact')}"
            + (f" · {about}" if about else "")
            + dates
        )
    return Reply("Campaigns:\n" + "\n".join(lines), ephemeral=True)


@result.register
def _(value: CampaignResult, user: UserView) -> Reply:
    return Reply("\n".join((value.message, *(f"⚠️ {w}" for w in value.warnings))))


@result.register
def _(value: SettingsView, user: UserView) -> Reply:
    u = value.user
    days = ", ".join(DAY_NAMES[d - 1] for d in u.working_days)
    where = (
        f"on {PLATFORM_NAMES.get(u.digest_platform, u.digest_platform)} only"
        if u.digest_platform
        else "on every platform you use"
    )
    back = u.digest_paused_until
    paused = (
        f" Paused until {back:%a} {back.day} {back:%b %Y} (digests and nudges start again that day)." if back else ""
    )
    text = (
        f"Digest at {u.digest_time:%H:%M} ({u.timezone}) on {days}, {where}.{paused}"
        + (f"\nSignature: {u.signature}" if u.signature else "\nNo signature: cadence messages sign with your name.")
        + "\nChange with: settings time 09:00 · settings timezone Europe/Paris · settings days mon-fri"
        + " · settings pause until DATE · settings resume · settings platform slack|telegram|all"
        + " · settings signature TEXT"
    )
    return Reply(f"{value.message}\n{text}" if value.message else text, ephemeral=True)


@result.register
def _(value: LinkCodeIssued, user: UserView) -> Reply:
    until = value.expires_at.astimezone(ZoneInfo(user.timezone))
    where = value.platform.capitalize()
    how = (
        f"Open {value.start_link} or send `/start {value.code}` to the Pipedriven bot in {where}."
        if value.start_link
        else f"Send `/start {value.code}` to the Pipedriven bot in {where}."
    )
    return Reply(
        f"Your {where} link code: {value.code} (it works once, until {until:%H:%M} {user.timezone}).\n{how}",
        ephemeral=True,
    )


@result.register
def _(value: ChatLinked, user: UserView) -> Reply:
    return Reply(
        f"✓ This {value.platform.capitalize()} account is now linked to {value.user.name} "
        f"({value.user.email}). Say `today` to see who to get in touch with, or `help`."
    )


@result.register
def _(value: StatsReport, user: UserView) -> Reply:
    head, table = stats_table(value)
    return Reply(head, (Section(text=table, monospace=True),), ephemeral=True, attachments=stats_chart(value))


def stats_chart(report: StatsReport) -> tuple[Attachment, ...]:
    """The funnel chart to post with the table, when there is anything to draw."""
    total = report.total
    if not (total.outreach or total.meetings_requested or total.meetings_booked):
        return ()
    from bot.charts import funnel_chart  # matplotlib takes a moment to import: only when a chart is drawn

    by = f" by {report.group_by}" if report.group_by else ""
    return (Attachment("pipedriven-stats.png", funnel_chart(report), "image/png", f"Funnel{by}, {report.period}"),)


@result.register
def _(value: Heatmap, user: UserView) -> Reply:
    if value.empty:
        return Reply(heatmap_text(value), ephemeral=True)
    from bot.charts import heatmap_chart, heatmap_title

    chart = Attachment("pipedriven-heatmap.png", heatmap_chart(value), "image/png", heatmap_title(value))
    return Reply(heatmap_text(value), ephemeral=True, attachments=(chart,))


def heatmap_text(heatmap: Heatmap) -> str:
    """The lines that go with the heatmap's picture (or say there is nothing to draw)."""
    from bot.charts import HEATMAP_ROWS, heatmap_title  # matplotlib: only when a heatmap is asked for

    title = heatmap_title(heatmap)
    if heatmap.empty:
        return f"{title}: no data yet."
    lines = [
        f"{title}.",
        "Each cell: outreach / meetings (requested or booked); the more meetings per outreach, the lighter.",
    ]
    if len(heatmap.rows) > HEATMAP_ROWS:
        lines.append(f"The busiest {HEATMAP_ROWS} of {len(heatmap.rows)} rows are drawn.")
    if heatmap.only_own:
        lines.append("Only your own outreach: the Golden Ticket team sees everyone's.")
    return "\n".join(lines)


@result.register
def _(value: HomeView, user: UserView) -> Reply:
    """The user's overview (Slack's App Home): today's rows, the follow-ups due today, their month."""
    sections = [Section(text="☀️ Who to contact today")]
    sections += [contact_row(s.contact, s.reason, s.rank, s.step, s.method) for s in value.suggestions.items] or [
        Section(text="Nothing to suggest right now. 🎉")
    ]
    sections.append(Section(text="⏰ Follow-ups due today"))
    for due in value.follow_ups:
        f, k = due.follow_up, due.contact
        when = f"{'💤 Snoozed until' if f.snoozed else '⏰ Due'} {local(f.due_at, user)}"
        when += f": {f.note}" if f.note else ""
        sections.append(
            Section(
                text=f"{k.label}\n{when}",
                contact_id=k.id,
                buttons=(*quick_buttons(k.id), Button("✓ Done", codec.encode("done", k.id))),
            )
        )
    if not value.follow_ups:
        sections.append(Section(text="None due. 👍"))
    sections.append(Section(text="📊 Your numbers this month"))
    sections.append(Section(text=stats_table(value.month)[1], monospace=True))
    return Reply(f"Hi {user.name.split()[0]}!", tuple(sections))


@result.register
def _(value: MethodRatesTable, user: UserView) -> Reply:
    head, table = method_rates_table(value)
    if table is None:
        return Reply(head, ephemeral=True)
    return Reply(head, (Section(text=table, monospace=True),), ephemeral=True)


@result.register
def _(value: OutcomeRulesView, user: UserView) -> Reply:
    return Reply(outcome_rules_text(value), ephemeral=True)


def outcome_rules_text(value: OutcomeRulesView) -> str:
    """The team's rules from outcomes, one a line (the chat and the CLI show the same)."""
    lines = [value.message] if value.message else []
    lines.append("The team's rules from outcomes (`rules set NAME DAYS` changes one for everyone):")
    for rule in value.rules:
        mark = f" (default {rule.default})" if rule.team_set else ""
        lines.append(f"• {rule.name} = {rule.days}{mark}: {rule.meaning}")
    return "\n".join(lines)


def method_rates_table(value: MethodRatesTable) -> tuple[str, str | None]:
    """The learned rates as a monospace table, with their 90% intervals (the chat and the CLI show the same)."""
    fit = value.fit
    if fit is None:
        return "Nothing learned yet: the method rates are fitted every night (or by `pipedriven learn`).", None
    when = fit.fitted_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    by = f" by {value.dimension}" if value.dimension else ""
    head = (
        f"Method rates{by} — the chance an outreach leads to a meeting (requested or booked within "
        f"{fit.window_days} days), learned {when} from {plural(fit.outreach, 'outreach', 'outreach')} "
        f"({plural(fit.meetings, 'meeting')}, {plural(fit.contacts, 'contact')}, {plural(fit.users, 'user')}); "
        f"the team's rate {fit.team_rate:.1%}. A rate with little data leans toward the method's overall rate "
        "(and that toward the team's); the interval holds the true rate with 90% probability."
    )
    if not value.rows:
        return head, "No rates" + (f" by {value.dimension}" if value.dimension else "") + " yet."
    width = min(max(len("Segment"), *(len(r.segment) for r in value.rows)), 24)
    lines = [f"{'Segment':<{width}}  {'Method':<14}  Outreach  Meetings   Rate  90% interval"]
    for r in value.rows:
        segment = r.segment if len(r.segment) <= width else r.segment[: width - 1] + "…"
        interval = f"{r.low:.0%}–{r.high:.0%}"
        lines.append(
            f"{segment:<{width}}  {METHOD_LABELS.get(r.method, r.method):<14}  {r.outreach:>8}  {r.meetings:>8}  "
            f"{r.rate:>5.0%}  {interval:>12}"
        )
    if value.hidden:
        lines.append(f"… and {plural(value.hidden, 'more row')} (the busiest segments are shown)")
    return head, "\n".join(lines)


def refit_text(value: RefitResult) -> str:
    fit = value.fit
    if fit is None:
        return "Tonight's method rates are already fitted."
    return (
        f"Method rates learned from {plural(fit.outreach, 'outreach', 'outreach')} and "
        f"{plural(fit.meetings, 'meeting')} ({plural(fit.contacts, 'contact')}, {plural(fit.users, 'user')}): "
        f"{plural(fit.rates, 'rate')} stored; the team's rate {fit.team_rate:.1%}."
    )


def stats_table(report: StatsReport) -> tuple[str, str]:
    """A monospace table: the same numbers every adapter and the CLI show."""
    scope = f"campaign {report.campaign}, " if report.campaign else ""
    head = f"Stats — {scope}{report.period}"
    rows = list(report.rows) + [report.total]
    label = (report.group_by or "").capitalize() or " "
    width = max([len(label)] + [len(r.key) for r in rows])
    width = min(width, 28)
    lines = [f"{label:<{width}}  Outreach  Requested  Booked  Conv."]
    for r in rows:
        conv = f"{r.conversion:.0%}" if r.conversion is not None else "–"
        key = r.key if len(r.key) <= width else r.key[: width - 1] + "…"
        lines.append(f"{key:<{width}}  {r.outreach:>8}  {r.meetings_requested:>9}  {r.meetings_booked:>6}  {conv:>5}")
    return head, "\n".join(lines)


# --- cadences -------------------------------------------------------------------------------------------


def _delay(position: int, days: int) -> str:
    if position == 1:
        return "at the start" if days == 0 else f"{days} working day{'s' if days != 1 else ''} after the start"
    return "right after" if days == 0 else f"{days} working day{'s' if days != 1 else ''} later"


def strategy_outline(strategy: StrategyView) -> str:
    """`LinkedIn → email +3d → call +4d`: a strategy on one line."""
    parts = [METHOD_LABELS[s.kind] if s.kind == "linkedin" else METHOD_LABELS[s.kind].lower() for s in strategy.steps]
    return (
        " → ".join(part + (f" +{s.delay_days}d" if s.delay_days else "") for part, s in zip(parts, strategy.steps))
        or "no steps yet"
    )


def strategy_text(strategy: StrategyView) -> str:
    head = strategy.name + (
        " (built in)" if strategy.built_in else f" (by {strategy.created_by})" if strategy.created_by else ""
    )
    lines = [head] + ([strategy.description] if strategy.description else [])
    for step in strategy.steps:
        lines.append(f"{step.position}. {METHOD_LABELS[step.kind]}, {_delay(step.position, step.delay_days)}")
        if step.subject_template:
            lines.append(f"   Subject: {step.subject_template}")
        if step.message_template:
            lines.extend("   " + line for line in step.message_template.split("\n"))
    if strategy.open_plans:
        lines.append(f"{plural(strategy.open_plans, 'contact')} following it.")
    return "\n".join(lines)


STEP_HINT = (
    "Add a step: cadence step NAME DAYS KIND subject | message — e.g. "
    "cadence step {name} 3 email Following up, {{{{contact.first_name}}}} | Hi {{{{contact.first_name}}}},"
    "\\n… (\\n starts a new line). Placeholders: {placeholders}."
)


@result.register
def _(value: StrategyList, user: UserView) -> Reply:
    if not value.strategies:
        return Reply("No cadences yet. Create one with: cadence new NAME", ephemeral=True)
    lines = [
        f"• {s.name}{' (built in)' if s.built_in else ''} — {strategy_outline(s)}"
        + (f" · {s.open_plans} following" if s.open_plans else "")
        for s in value.strategies
    ]
    return Reply(
        "Cadences:\n"
        + "\n".join(lines)
        + "\nStart one: cadence start NAME CONTACT · cadence start NAME campaign CAMPAIGN",
        ephemeral=True,
    )


@result.register
def _(value: StrategyView, user: UserView) -> Reply:
    return Reply(strategy_text(value), ephemeral=True)


@result.register
def _(value: StrategyResult, user: UserView) -> Reply:
    text = f"{value.message}\n{strategy_text(value.strategy)}"
    if not value.strategy.steps:
        text += "\n" + STEP_HINT.format(name=value.strategy.name, placeholders=PLACEHOLDER_LIST)
    return Reply(text, ephemeral=True)


@result.register
def _(value: DueSteps, user: UserView) -> Reply:
    return due_steps(value)


@result.register
def _(value: CadenceStats, user: UserView) -> Reply:
    head, table, stalls = cadence_stats_table(value)
    sections = [Section(text=table, monospace=True)]
    if stalls:
        sections.append(Section(text=stalls))
    return Reply(head, tuple(sections), ephemeral=True)


def cadence_stats_table(report: CadenceStats) -> tuple[str, str, str]:
    """The heading, a monospace table by strategy, and where open plans wait (the same in chat and the CLI)."""
    width = min(max([8] + [len(r.strategy) for r in report.rows]), 28)
    lines = [f"{'Strategy':<{width}}  Started  Replies  Requested  Booked  Active  Paused  Done"]
    for r in report.rows:
        name = r.strategy if len(r.strategy) <= width else r.strategy[: width - 1] + "…"
        lines.append(
            f"{name:<{width}}  {r.contacts_started:>7}  {r.replies:>7}  {r.meetings_requested:>9}  "
            f"{r.meetings_booked:>6}  {r.active:>6}  {r.paused:>6}  {r.completed:>4}"
        )
    waits = [
        f"• {r.strategy}, step {s.position} ({METHOD_LABELS[s.kind]}): {s.waiting} waiting"
        + (f", {s.overdue} overdue" if s.overdue else "")
        for r in report.rows
        for s in r.stalls
    ]
    return (
        "Cadence stats — all time, whole team",
        "\n".join(lines),
        "Where plans wait:\n" + "\n".join(waits) if waits else "",
    )


@result.register
def _(value: StrategyAnalytics, user: UserView) -> Reply:
    head, table, notes = strategy_analytics_table(value)
    sections = [Section(text=table, monospace=True)]
    if notes:
        sections.append(Section(text=notes))
    return Reply(head, tuple(sections), ephemeral=True, attachments=cadence_chart_attachment(value))


def cadence_chart_attachment(report: StrategyAnalytics) -> tuple[Attachment, ...]:
    """The strategy analytics chart to post with the table, when any plan has been started."""
    if report.empty:
        return ()
    from bot.charts import cadence_chart, cadence_chart_title  # matplotlib: only when a chart is drawn

    return (Attachment("pipedriven-cadences.png", cadence_chart(report), "image/png", cadence_chart_title(report)),)


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.0%}"


def strategy_analytics_table(report: StrategyAnalytics) -> tuple[str, str, str]:
    """The heading, a monospace table (by cadence, or one cadence by step) and the notes under it: where plans
    stall and what the columns mean (the same in chat and the CLI)."""
    if report.one:
        f = report.strategies[0]
        head = (
            f"Cadence “{f.strategy}” — all time, whole team: {plural(f.plans, 'plan')}, "
            f"{f.meetings} with a meeting ({_percent(f.conversion)}), "
            f"{f.steps_on_time} of {plural(f.steps_done, 'step')} done on time ({_percent(f.adherence)})."
        )
        lines = ["Step           Reached  Done  On time  Mtgs  Stalled"]
        for st in f.steps:
            step = f"{st.position} {METHOD_LABELS[st.kind]}"[:13]
            lines.append(
                f"{step:<13}  {st.reached:>7}  {st.done:>4}  {st.on_time:>3} {_percent(st.adherence):>4}  "
                f"{st.meetings:>4}  {st.stalled:>7}"
            )
        notes = [
            f"{plural(f.meetings_before_first_step, 'meeting')} came before step 1."
            if f.meetings_before_first_step
            else "",
            _stall_line(f) if f.stall else "No step holds plans up.",
            "Mtgs: plans whose first meeting came after that step. Stalled: plans that ended there without a "
            "meeting, or wait there past its day.",
        ]
        return head, "\n".join(lines), "\n".join(n for n in notes if n)
    head = "Cadences — all time, whole team: meetings per plan, and steps done by the day they fell due."
    width = min(max([7] + [len(f.strategy) for f in report.strategies]), 22)
    lines = [f"{'Cadence':<{width}}  Plans  Mtgs  Conv  On time"]
    for f in report.strategies:
        name = f.strategy if len(f.strategy) <= width else f.strategy[: width - 1] + "…"
        lines.append(
            f"{name:<{width}}  {f.plans:>5}  {f.meetings:>4}  {_percent(f.conversion):>4}  {_percent(f.adherence):>7}"
        )
    stalls = [_stall_line(f) for f in report.strategies if f.stall]
    notes = "Where plans stall:\n" + "\n".join(stalls) if stalls else "No cadence holds plans up."
    return head, "\n".join(lines), notes + "\nSay `stats cadence NAME` for one cadence step by step."


def _stall_line(f) -> str:
    st = f.stall
    why = ", ".join(
        part
        for part in (
            f"{st.overdue} waiting past their day" if st.overdue else "",
            f"{st.dropped} ended there" if st.dropped else "",
        )
        if part
    )
    return f"• {f.strategy}: step {st.position} ({METHOD_LABELS[st.kind]}), {why}"


SUMMARY_ROWS = 12  # campaigns and people listed in the weekly summary; the rest are counted


def weekly_summary(summary: WeeklySummary) -> tuple[tuple[Section, ...], tuple[Attachment, ...]]:
    """The Golden Ticket team's week as sections for their Monday digest: each live campaign's numbers, who is
    behind on their cadence steps; and the live campaigns' heatmap as a picture."""
    head = f"📊 Last week, {summary.week}"
    if summary.campaigns:
        width = min(max([8] + [len(c.campaign) for c in summary.campaigns]), 20)
        lines = [f"{'Campaign':<{width}}  Outreach  Requested  Booked"]
        for c in summary.campaigns[:SUMMARY_ROWS]:
            name = c.campaign if len(c.campaign) <= width else c.campaign[: width - 1] + "…"
            lines.append(f"{name:<{width}}  {c.outreach:>8}  {c.meetings_requested:>9}  {c.meetings_booked:>6}")
        if len(summary.campaigns) > SUMMARY_ROWS:
            lines.append(and_more(len(summary.campaigns) - SUMMARY_ROWS))
        numbers = Section(text="\n".join(lines), monospace=True)
    else:
        numbers = Section(text="No campaign is live.")
    if summary.behind:
        people = [
            f"• {b.user}: {plural(b.overdue, 'step')} overdue"
            + (" by " if b.overdue == 1 else ", the oldest by ")
            + plural(b.oldest_days, "day")
            + (f"; {b.on_time_last_week} of {b.done_last_week} on time last week" if b.done_last_week else "")
            for b in summary.behind[:SUMMARY_ROWS]
        ]
        if len(summary.behind) > SUMMARY_ROWS:
            people.append(and_more(len(summary.behind) - SUMMARY_ROWS))
        behind = Section(text="Behind on their cadence steps:\n" + "\n".join(people))
    else:
        behind = Section(text="Nobody is behind on their cadence steps.")
    attachments: tuple[Attachment, ...] = ()
    if not summary.heatmap.empty:
        from bot.charts import heatmap_chart, heatmap_title  # matplotlib: only when a chart is drawn

        title = f"Live campaigns: {heatmap_title(summary.heatmap)}"
        attachments = (Attachment("pipedriven-week.png", heatmap_chart(summary.heatmap), "image/png", title),)
    return (Section(text=head), numbers, behind), attachments


# --- campaigns and imports ---------------------------------------------------------------------------------

CAMPAIGN_STATUS_WORDS = {
    "planned": "planned",
    "contacted": "contacted",
    "replied": "replied",
    "meeting_requested": "mtg requested",
    "meeting_booked": "mtg booked",
}


@result.register
def _(value: CampaignDetail, user: UserView) -> Reply:
    camp = value.campaign
    about = " · ".join(x for x in (camp.sector, camp.theme, camp.geography) if x)
    dates = " – ".join(f"{d.day} {d:%b %Y}" for d in (camp.start_date, camp.end_date) if d)
    members = value.members
    requested = sum(m.meetings_requested for m in members)
    booked = sum(m.meetings_booked for m in members)
    lines = [
        f"{camp.name} [{camp.status}]" + "".join(f" · {x}" for x in (about, dates) if x),
        f"{plural(camp.contact_count, 'contact')} · {plural(requested, 'meeting')} requested · {booked} booked"
        + (" (your contacts)" if value.others else ""),
    ]
    if camp.description:
        lines.append(camp.description)
    if value.others:
        lines.append(
            f"{plural(value.others, 'more contact')} of this campaign {'is' if value.others == 1 else 'are'} in other users' banks."
        )
    if not members:
        lines.append(
            "No contacts of yours in it yet: `campaign add NAME CONTACT [METHOD]`."
            if value.others
            else "No contacts yet: `campaign add NAME CONTACT [METHOD]`."
        )
        return Reply("\n".join(lines), ephemeral=True)
    return Reply("\n".join(lines), (Section(campaign_table(value, user), monospace=True),), ephemeral=True)


def campaign_table(detail: CampaignDetail, user: UserView) -> str:
    """Contact, owner, planned method, last outreach (when and how), status, meetings requested and booked."""
    rows = [("Contact", "Owner", "Plan", "Last outreach", "Status", "Req", "Bkd")]
    for m in detail.members:
        last = "never"
        if m.last_outreach_at:
            day = m.last_outreach_at.astimezone(ZoneInfo(user.timezone))
            last = f"{day.day} {day:%b} {METHOD_LABELS.get(m.last_method, m.last_method or '')}".strip()
        rows.append(
            (
                _cut(m.label, 28),
                _cut(m.owner.split()[0] if m.owner else "", 12),
                METHOD_LABELS.get(m.planned_method, "–") if m.planned_method else "–",
                last,
                CAMPAIGN_STATUS_WORDS.get(m.status, m.status),
                str(m.meetings_requested),
                str(m.meetings_booked),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.rjust(w) if i >= 5 else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
        for row in rows
    )


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


COLUMN_ECHO = 60  # characters of a column's header the import report repeats
FIELD_LABELS = {
    "name": "name",
    "first_name": "first name",
    "last_name": "last name",
    "email": "email",
    "phone": "phone",
    "organisation": "organisation",
    "title": "title",
    "linkedin_url": "LinkedIn",
    "sector": "sector",
    "country": "country",
    "notes": "notes",
    "warmness": "warmness",
    "campaign": "campaign",
    "method": "method",
    "past_business": "past business",
}


CHAT_COLLISIONS = 5  # names of people also in a colleague's bank an import's chat reply lists


def import_summary(
    report: ImportReport, *, limit: int | None = 20, collisions: int | None = CHAT_COLLISIONS, more: str = ""
) -> tuple[str, str]:
    """The report as a summary and a list of the rows not imported or imported with warnings (all of them,
    or the first `limit`). The summary names the first `collisions` people also in a colleague's bank (all
    of them when None); `more` says where the rest are listed."""
    counts = [f"{report.imported} new", f"{report.updated} updated"]
    if report.mode == "update":
        counts.append(f"{report.unchanged} unchanged")
    else:
        counts.append(f"{report.skipped} skipped (already in the bank)")
    counts += [f"{plural(len(report.duplicates), 'duplicate')} in the file", f"{len(report.rejected)} rejected"]
    if report.cell_warnings:
        counts.append(f"{report.imported_with_warnings} imported with warnings")
    lines = [
        f"Imported into {report.owner}'s bank: " + ", ".join(counts) + ".",
        f"Read {plural(report.rows, 'row')} as {report.encoding}, {report.delimiter}-separated"
        + (f" ({plural(report.blank, 'blank row')} ignored)." if report.blank else "."),
        "Columns: "
        + ", ".join(
            f"{shorten(header, COLUMN_ECHO)} → {FIELD_LABELS.get(field, field)}" for header, field in report.mapping
        )
        + ".",
    ]
    if report.unknown_columns:
        named = ", ".join(shorten(column, COLUMN_ECHO) for column in report.unknown_columns)
        more_columns = f" {and_more(report.more_unknown_columns)}" if report.more_unknown_columns else ""
        lines.append(f"Columns not imported: {named}{more_columns}.")
    if report.campaigns:
        lines.append(
            f"Added {plural(report.added_to_campaigns, 'contact')} to "
            + ", ".join(f"“{name}”" for name in report.campaigns)
            + "."
        )
    if report.sync_queued:
        lines.append(f"Pipedrive sync queued for {plural(report.sync_queued, 'warm contact')}.")
    lines += [f"⚠️ {warning}" for warning in report.warnings]
    lines += collision_lines(report.collisions, collisions, more)
    issues = sorted(
        [(issue.row, f"rejected: {issue.reason}") for issue in report.rejected]
        + [(issue.row, f"skipped: {issue.reason}") for issue in report.duplicates]
        + [(issue.row, issue.reason) for issue in report.cell_warnings]
    )
    shown = issues if limit is None else issues[:limit]
    rows = [f"row {row}: {reason}" for row, reason in shown]
    if len(issues) > len(shown):
        rows.append(f"… and {len(issues) - len(shown)} more (the CLI lists them all: pipedriven import).")
    return "\n".join(lines), "\n".join(rows)


def collision_lines(found: tuple[Collision, ...], shown: int | None, more: str) -> list[str]:
    """“👥 3 contacts are also in a colleague's bank:” and the first `shown` of them (all when None)."""
    if not found:
        return []
    verb = "is" if len(found) == 1 else "are"
    head = f"👥 {plural(len(found), 'contact')} {verb} also in a colleague's bank"
    named = found if shown is None else found[:shown]
    if not named:
        return [f"{head}{f' ({more})' if more else ''}."]
    lines = [f"{head}:", *(f"  {collision.sentence}" for collision in named)]
    if len(found) > len(named):
        lines.append(f"  {and_more(len(found) - len(named))}" + (f": {more}." if more else "."))
    return lines


@result.register
def _(value: ImportReport, user: UserView) -> Reply:
    summary, rows = import_summary(
        value, more="an admin's `pipedriven import FILE --user EMAIL --show-collisions` lists them all"
    )
    return Reply(summary, (Section(rows, monospace=True),) if rows else (), ephemeral=True)


# --- privacy: export and forget ---------------------------------------------------------------------------

# A chat export must fit one Slack section (3,000 characters) and one Telegram message (4,096).
CHAT_EXPORT_LIMIT = 2800
_EXPORT_LABELS = {
    "contacts": "Contact",
    "campaign_contacts": "Campaign memberships",
    "activities": "Activities",
    "follow_ups": "Follow-ups",
    "domain_events": "Events",
    "outbox": "Pipedrive sync history",
    "audit_log": "Audit trail",
}


def _export_value(column: str, value, user: UserView) -> str:
    if column == "phone":
        return display_phone(value) or ""
    if isinstance(value, datetime):
        return local(value, user)
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _export_row(columns: tuple[str, ...], row: tuple, user: UserView) -> str:
    """A row's values that mean something to a person: internal ids are left to the full export."""
    return " · ".join(
        f"{col.replace('_', ' ')}: {_export_value(col, v, user)}"
        for col, v in zip(columns, row)
        if _worth_showing(col, v)
    )


# Book-keeping that means nothing to the person asking; the full export keeps it.
_CHAT_EXPORT_SKIP = frozenset(
    {"created_at", "updated_at", "next_attempt_at", "attempts", "sync_state", "topic", "added_by", "created_by"}
)


def _worth_showing(column: str, value) -> bool:
    if value is None or value in ("", [], {}) or column in _CHAT_EXPORT_SKIP:
        return False
    return column.startswith("pipedrive_") or not (column == "id" or column.endswith(("_id", "_ids")))


@result.register
def _(value: ContactExport, user: UserView) -> Reply:
    """The export as text, cut to fit a chat message; the full file comes from `pipedriven contacts export`."""
    lines, cut = [], 0
    for section in value.sections:
        if not section.rows:
            continue
        block = [
            f"{_EXPORT_LABELS.get(section.name, section.name.replace('_', ' ').capitalize())} ({len(section.rows)}):"
        ]
        block += [f"• {_export_row(section.columns, row, user)}" for row in section.rows]
        for line in block:
            if cut or sum(len(x) + 1 for x in lines) + len(line) > CHAT_EXPORT_LIMIT:
                cut += 1
            else:
                lines.append(line)
    ids = ", ".join(map(str, value.contact_ids))
    if cut:
        lines.append(
            f"… {plural(cut, 'more line')}. The complete export is a file a Golden Ticket admin can make: "
            f"`pipedriven contacts export {ids}`."
        )
    return Reply(f"Everything Pipedriven holds about contact {ids}:\n" + "\n".join(lines), ephemeral=True)


@result.register
def _(value: ErasurePreview, user: UserView) -> Reply:
    k = value.contacts[0]
    kept = (
        f" Their {value.activities} past activit{'y stays' if value.activities == 1 else 'ies stay'} in the "
        "numbers, anonymous."
        if value.activities
        else ""
    )
    text = (
        f"Erase {k.label} from Pipedriven for good? This deletes the contact, their notes, "
        f"{plural(value.follow_ups, 'follow-up')}, {plural(value.campaign_memberships, 'campaign membership')} and "
        f"{plural(value.sync_messages, 'sync message')}.{kept} It can't be undone."
        + (f" Pipedrive's copy (person {k.pipedrive_person_id}) must be erased there." if k.pipedrive_person_id else "")
    )
    return Reply(text, footer=(Button("🗑 Erase for good", codec.encode("forget", k.id)),), ephemeral=True)


@result.register
def _(value: ErasureResult, user: UserView) -> Reply:
    return Reply(value.message, ephemeral=True)


def nudge(contact: ContactView, follow_up: FollowUpView, user: UserView) -> Reply:
    """A follow-up that fell due (or a snooze that ended), as one row with the digest's buttons."""
    if follow_up.snoozed:
        title, why = f"💤 Snooze over: {contact.name} is back.", "snooze ended"
    else:
        title, why = f"⏰ Time to follow up with {contact.name}.", "follow-up due"
    bits = [
        f"{why}: {follow_up.note}" if follow_up.note else why,
        f"last touch {local(contact.last_contacted_at, user)}" if contact.last_contacted_at else "never contacted",
    ]
    return Reply(title, (contact_row(contact, " · ".join(bits)),))


def rule_nudge(contact: ContactView, rule: RuleNudge, user: UserView) -> Reply:
    """A rule from outcomes that fired for a contact, as one row with its reason; after no reply, the method to
    try leads the buttons."""
    last = f"last touch {local(contact.last_contacted_at, user)}" if contact.last_contacted_at else "never contacted"
    return Reply(
        f"👉 Time to nudge {contact.name}.", (contact_row(contact, f"{rule.reason} · {last}", first=rule.method),)
    )


# --- an interaction typed in words: its preview --------------------------------------------------------------

PREVIEW_NOTE_LIMIT = 500
OUTCOME_LABELS = {"replied": "replied", "no_answer": "no answer", "not_interested": "not interested"}
# How it happened, offered as buttons when the line didn't say.
PREVIEW_METHODS = ("call", "email", "linkedin", "meeting", "referral", "conference")


def interaction_lines(draft: InteractionDraft, user: UserView) -> list[str]:
    """Every field of the preview on its own line; what the line didn't say shows as `?` or `—`."""
    f = draft.fields
    if draft.contact is not None:
        contact = draft.contact.label
    elif draft.candidates:
        contact = f"? ({quoted(f.contact_name or '', 60)} matches {len(draft.candidates)} contacts: pick one)"
    elif f.contact_name:
        contact = f"? (no contact named {quoted(f.contact_name, 60)} in your bank)"
    else:
        contact = "? (who was it with?)"
    if f.meeting == "booked":
        meeting = "booked " + (local(f.meeting_at, user) if f.meeting_at else "(no time given)")
    else:
        meeting = f.meeting or "—"
    return [
        f"Contact: {contact}",
        f"Method: {METHOD_LABELS.get(f.method, '?') if f.method else '?'}",
        f"Outcome: {OUTCOME_LABELS.get(f.outcome or '', '—')}",
        f"Note: {shorten(f.note, PREVIEW_NOTE_LIMIT) if f.note else '—'}",
        f"Reminder: {f.follow_up:%a} {f.follow_up.day} {f.follow_up:%b %Y}" if f.follow_up else "Reminder: —",
        f"Warm: {'yes' if f.warm else 'no'}",
        f"Meeting: {meeting}",
    ]


@result.register
def _(value: InteractionDraft, user: UserView) -> Reply:
    """The preview: what will be written, the buttons that fix what is missing, then confirm, edit and cancel."""
    draft, fields = str(value.id), value.fields
    contact_id = value.contact.id if value.contact else 0
    sections = [Section("\n".join(interaction_lines(value, user)), contact_id=contact_id or None)]
    sections += [
        Section(f"{i}. {k.label}", (Button("Pick", codec.encode("ipick", k.id, draft)),), contact_id=k.id, number=i)
        for i, k in enumerate(value.candidates, 1)
    ]
    if value.contact is not None and not fields.method:
        sections.append(
            Section(
                "How did it happen?",
                tuple(
                    Button(METHOD_LABELS[m], codec.encode("imethod", contact_id, f"{draft}:{m}"))
                    for m in PREVIEW_METHODS
                ),
            )
        )
    footer: list[Button] = []
    if value.contact is not None and fields.method:
        footer.append(Button("✓ Confirm", codec.encode("iok", contact_id, draft)))
    if value.candidates:
        footer.append(Button("None of these", codec.encode("ipick", 0, draft)))
    elif value.contact is None and fields.contact_name:
        footer.append(Button(f"➕ Add {shorten(fields.contact_name, 30)}", codec.encode("iadd", 0, draft)))
    footer += [
        Button("✎ Edit", codec.encode("iedit", contact_id, draft)),
        Button("✗ Cancel", codec.encode("ino", contact_id, draft)),
    ]
    if value.contact is not None and fields.method:
        head = "Here is what I read; nothing is saved until you confirm:"
    else:
        head = "Here is what I read; nothing is saved. Fix what is missing (or edit the line), then confirm:"
    return Reply(head, tuple(sections), footer=tuple(footer), ephemeral=True)


# --- Pipedrive sync ---------------------------------------------------------------------------------------

SYNC_EVENTS = {
    "ContactWarmed": "warm lead",
    "MeetingRequested": "meeting requested",
    "MeetingBooked": "meeting booked",
    "ActivityUndone": "undone outreach",
    "NoteAdded": "note",
    "NotesEdited": "notes edited",
    "OrganisationDetailsChanged": "organisation's sector or country",
    "ContactDetailsChanged": "details edited",
}
NOT_CONFIGURED = (
    "Pipedrive is not configured yet, so syncs wait in the queue (nothing is lost). "
    "An admin sets PIPEDRIVE_API_TOKEN, or a token of your own."
)


@result.register
def _(value: SyncList, user: UserView) -> Reply:
    return Reply(sync_text(value, user.timezone), ephemeral=True)


@result.register
def _(value: SyncRetried, user: UserView) -> Reply:
    return Reply(value.message, ephemeral=True)


def sync_text(value: SyncList, tz: str, *, show_user: bool = False) -> str:
    """The `sync` list: one line per sync, unfinished first, each failure with its reason and the retry to say.
    The same text in the chat and in `pipedriven sync status` (which names each sync's user)."""
    counts = value.counts
    waiting = counts.get("pending", 0) + counts.get("processing", 0)
    head = f"Pipedrive sync: {waiting} waiting · {counts.get('done', 0)} done · {counts.get('failed', 0)} failed"
    lines = [head]
    if not value.configured:
        lines.append(NOT_CONFIGURED)
    if not value.items:
        lines.append("Nothing synced yet: a contact flagged warm or a meeting goes to Pipedrive.")
    if value.inbound:
        waiting = value.inbound.get("received", 0)
        lines.append(
            "From Pipedrive: "
            + " · ".join(f"{value.inbound.get(s, 0)} {s}" for s in ("applied", "ignored", "stale", "error"))
            + (f" · {waiting} waiting" if waiting else "")
        )
        when = [f"last received {_at(value.inbound_last_received_at, tz)}"] if value.inbound_last_received_at else []
        if value.inbound_oldest_waiting_at:
            when.append(f"oldest waiting since {_at(value.inbound_oldest_waiting_at, tz)}")
        if when:
            lines.append("  " + " · ".join(when))
        lines += [_inbound_line(event, tz) for event in value.inbound_items]
    elif show_user:
        lines.append("From Pipedrive: nothing received yet.")
    if any(i.status == "done" and i.reason and "pipedriven pipedrive setup" in i.reason for i in value.items):
        lines.append("⚠️ Pipedrive's set-up is incomplete: run `pipedriven pipedrive setup` (an admin, once).")
    lines += [_sync_line(item, tz, show_user) for item in value.items]
    return "\n".join(lines)


INBOUND_ACTIONS = {"create": "created", "change": "changed", "delete": "deleted"}


def _at(moment: datetime, tz: str) -> str:
    return f"{moment.astimezone(ZoneInfo(tz)):%d %b %H:%M}"


def _inbound_line(event: InboundEventView, tz: str) -> str:
    at = event.occurred_at.astimezone(ZoneInfo(tz))
    what = f"{event.entity} {event.entity_id} {INBOUND_ACTIONS.get(event.action, event.action)} {at:%d %b %H:%M}"
    return f"↩ {what}: {event.status}" + (f" — {event.outcome}" if event.outcome else "")


def _sync_line(item: SyncItemView, tz: str, show_user: bool) -> str:
    what = SYNC_EVENTS.get(item.event) or METHOD_LABELS.get(item.activity_kind or "", "activity")
    who = item.contact_name or "(erased contact)"
    owner = f" [{item.user_email}]" if show_user and item.user_email else ""
    head = f"#{item.id} {who} — {what}{owner}:"
    if item.status == "done":
        ids = ", ".join(
            x
            for x in (
                f"person {item.pipedrive_person_id}" if item.pipedrive_person_id else "",
                f"activity {item.pipedrive_activity_id}" if item.pipedrive_activity_id else "",
            )
            if x
        )
        left_out = f" — {item.reason}" if item.reason else ""
        return f"✓ {head} in Pipedrive" + (f" ({ids})" if ids else "") + left_out
    if item.status == "failed":
        return f"✗ {head} failed — {item.reason or 'no reason given'} Say `sync retry {item.id}`."
    if item.status == "processing":
        return f"🔄 {head} being sent now"
    retry = ""
    if item.attempts and item.next_attempt_at:
        loc = item.next_attempt_at.astimezone(ZoneInfo(tz))
        retry = f", next try at {loc:%H:%M:%S}" + (f" ({item.reason})" if item.reason else "")
    return f"⏳ {head} waiting{retry}"
