"""The neutral conversation: chat text and button taps in, core commands run, neutral replies out.

Every platform adapter calls this with an identified user; it is the one place where the grammar, the
button codec and the core meet, so Slack, Telegram and the console behave the same.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot import codec, render
from bot.capture import InteractionReading, read_interaction
from bot.grammar import AskEdit, Help, UnclearOrganisation, UnknownVerb, help_text, parse
from bot.replies import Button, Prompt, Reply, Section
from bot.when import parse_when
from core import metrics
from core.analytics.commands import GetWeeklySummary
from core.cadences.commands import PauseCadence, RestartCadence, ResumeCadence, StopCadence
from core.command import Actor, ContactRef
from core.contacts.commands import (
    EDITABLE_FIELDS,
    AddContact,
    ArchiveContact,
    EditContact,
    MergeContacts,
    PreviewRemoval,
    RestoreContact,
    ShowContact,
    UndoContactEdit,
)
from core.echo import quoted
from core.errors import AmbiguousContact, ContactRemoved, PipedrivenError, UnknownUser
from core.feed.commands import ShowHome, TodaySuggestions
from core.importing.uploads import check_upload_size, import_upload
from core.outreach.commands import (
    AddNote,
    BookMeeting,
    ChooseDraftContact,
    CompleteFollowUp,
    ConfirmInteraction,
    DiscardInteractionDraft,
    FindLastUndoable,
    FlagWarm,
    InteractionFields,
    LogOutreach,
    RequestMeeting,
    SaveInteractionDraft,
    SetDraftMethod,
    SetFollowUp,
    ShowInteractionDraft,
    Snooze,
    UndoOutreach,
)
from core.privacy.commands import EraseContact
from core.requests import new_request_id
from core.service import Core
from core.users.commands import RecallPrompt, RedeemLinkCode, RememberPrompt
from core.views import AlreadyDone, ContactView, UserView

log = logging.getLogger(__name__)

# The buttons of an interaction's preview (render: InteractionDraft).
_DRAFT_VERBS = frozenset({"iok", "ino", "ipick", "imethod", "iadd", "iedit"})
# The buttons on a contact's row that act on its cadence plan.
_PLAN_CONTROLS = {"cpause": PauseCadence, "cresume": ResumeCadence, "crestart": RestartCadence, "cstop": StopCadence}
# Buttons that can't be taken back ask first: the question, the confirming button's label and what Keep says.
# The confirming button carries CONFIRMED as its argument; only that one acts.
_ASK_FIRST = {
    "cstop": (
        "Stop {name}'s cadence “{strategy}”? This can't be undone: a stopped cadence can only start over from step 1.",
        "⏹ Stop it",
        "Kept: {name}'s cadence goes on.",
    ),
}
CONFIRMED = "yes"
NOTHING_TO_UNDO = "Nothing to undo: `undo` takes back your last outreach or contact edit of the last ten minutes."

_EDIT_FIELDS = frozenset(EDITABLE_FIELDS.values())

SOMETHING_WENT_WRONG = "Something went wrong on my side and nothing was saved. Please try again in a moment."
# What a shared file must look like to be imported: a CSV (or TSV) by its name or by the type the platform
# announces (Windows sends CSVs as application/vnd.ms-excel, so the name counts as much as the type).
CSV_SUFFIXES = (".csv", ".tsv")
CSV_MIME_TYPES = frozenset(
    {"text/csv", "text/comma-separated-values", "application/csv", "text/x-csv", "text/tab-separated-values"}
)
NOT_A_CSV = (
    "I can import contacts from a CSV file, and {name} isn't one. Save your list as CSV (UTF-8) "
    "and send me that file; anything else, say it in words (`help` lists them)."
)
ALREADY_IMPORTED = (
    "I imported that file already, when it was first sent, so I haven't imported it again. "
    "To import changes, edit the file and send it again."
)


def is_csv(filename: str | None, mime_type: str | None) -> bool:
    """Whether a shared file is one to import, by its name or its announced type."""
    name = (filename or "").lower()
    return name.endswith(CSV_SUFFIXES) or (mime_type or "").split(";")[0].strip().lower() in CSV_MIME_TYPES


def interaction_fields(reading: InteractionReading) -> InteractionFields:
    """What bot.capture read, as the core keeps it in a draft."""
    return InteractionFields(
        contact_name=reading.contact,
        organisation=reading.organisation,
        method=reading.method,
        outcome=reading.outcome,
        follow_up=reading.follow_up,
        warm=reading.warm,
        meeting=reading.meeting,
        meeting_at=reading.meeting_at.astimezone(UTC) if reading.meeting_at else None,
        note=reading.note,
    )


def _draft_id(arg: str | None) -> int:
    """The draft a preview's button names (its argument's first part)."""
    number = (arg or "").partition(":")[0]
    if not number.isdigit() or len(number) > 18:
        raise codec.BadButton()
    return int(number)


def _button_add(actor: Actor, words: str | None, now: datetime) -> AddContact:
    """The contact a tapped choice of `organisation_choices` adds: its words read as a typed `add`."""
    try:
        command = parse(f"add {words}", actor, now) if words else None
    except PipedrivenError:
        command = None
    if not isinstance(command, AddContact):
        raise codec.BadButton()
    return command


class Conversation:
    def __init__(self, core: Core, platform: str) -> None:
        self.core = core
        self.platform = platform

    def now_for(self, user: UserView) -> datetime:
        return self.core.clock.now().astimezone(ZoneInfo(user.timezone))

    @property
    def max_upload_bytes(self) -> int:
        """IMPORT_MAX_UPLOAD_BYTES: the largest file `handle_file` takes."""
        return self.core.settings.import_max_upload_bytes

    def actor(self, user: UserView) -> Actor:
        return Actor(user.id, self.platform)

    async def identify(self, external_user_id: str) -> UserView | None:
        """The user who linked this platform account, or None when nobody did."""
        try:
            return await self.core.identify(self.platform, external_user_id)
        except UnknownUser:
            return None

    async def link_account(
        self, code: str, external_user_id: str, dm_channel: str | None = None, *, idempotency_key: str | None = None
    ) -> Reply | None:
        """Link this platform account to whoever was given `code` (`settings link telegram`, `pipedriven users
        link`): the welcome, or None for a redelivery already answered. A code that doesn't link raises
        PipedrivenError saying why."""
        linked = await self.core.execute(
            RedeemLinkCode(code, self.platform, external_user_id, dm_channel), idempotency_key=idempotency_key
        )
        if isinstance(linked, AlreadyDone):
            return None
        return render.result(linked, linked.user)

    async def handle_text(self, user: UserView, text: str, *, idempotency_key: str | None = None) -> Reply:
        """A message typed by the user; the key (the platform's delivery id) makes a redelivery a no-op."""
        new_request_id("cmd")
        try:
            try:
                parsed = parse(text, self.actor(user), self.now_for(user))
            except UnknownVerb as unknown:
                parsed = self._interaction(user, text, unknown)
            if isinstance(parsed, Help):
                return Reply(help_text(parsed.topic), ephemeral=True)
            if isinstance(parsed, FindLastUndoable):
                return await self._undo_last(user, parsed, idempotency_key)
            if isinstance(parsed, AskEdit):
                return await self._edit(self.actor(user), parsed.contact, parsed.field, None)
            return await self._run(user, parsed, idempotency_key)
        except AmbiguousContact as exc:
            return render.ambiguous(exc, text)
        except UnclearOrganisation as exc:
            return render.organisation_choices(exc)
        except ContactRemoved as exc:
            return render.removed(exc)
        except PipedrivenError as exc:
            return Reply(exc.user_message, ephemeral=True)
        except Exception:  # never a trace in the chat
            log.exception("unexpected error handling a message")
            return Reply(SOMETHING_WENT_WRONG, ephemeral=True)

    def _interaction(self, user: UserView, text: str, unknown: UnknownVerb) -> SaveInteractionDraft:
        """A line that is no command, read as an interaction to preview; else the grammar's own answer. A first
        word that looks like a misspelt verb (`lgo`) stays a typo unless the line names a contact and a method."""
        reading = read_interaction(text, self.now_for(user))
        if reading is None or (unknown.suggestion and not (reading.contact and reading.method)):
            raise unknown
        return SaveInteractionDraft(self.actor(user), text, interaction_fields(reading))

    async def handle_button(
        self, user: UserView, data: str, answer: str | None = None, *, idempotency_key: str | None = None
    ) -> Reply:
        """A tap on a button (and, for buttons that ask, the user's answer). The key names the platform's
        delivery of the tap, so that a redelivery acts once and a second tap acts again."""
        new_request_id("tap")
        started = time.perf_counter()
        try:
            return await self._handle_button(user, data, answer, idempotency_key)
        finally:
            seconds = time.perf_counter() - started
            metrics.TAPS.labels(self.platform).inc()
            metrics.TAP_SECONDS.labels(self.platform).observe(seconds)
            verb = data.partition(":")[0]
            log.info(
                "tap %s by user %s on %s: %.0f ms",
                verb if verb in codec.VERBS else "?",
                user.id,
                self.platform,
                seconds * 1000,
            )

    async def _handle_button(self, user: UserView, data: str, answer: str | None, idempotency_key: str | None) -> Reply:
        try:
            button = codec.decode(data)
            command = await self._button_command(user, button, answer, idempotency_key)
            if isinstance(command, Reply):
                return command
            return await self._run(user, command, idempotency_key)
        except ContactRemoved as exc:
            return render.removed(exc)
        except PipedrivenError as exc:
            return Reply(exc.user_message, ephemeral=True)
        except Exception:
            log.exception("unexpected error handling a button")
            return Reply(SOMETHING_WENT_WRONG, ephemeral=True)

    async def remember_prompt(self, user: UserView, chat: str, message: str, prompt: Prompt) -> None:
        """The platform showed `prompt` as message `message` in `chat`: kept in the database, so that the reply to
        that message finds the button it answers, after a restart too."""
        await self.core.execute(RememberPrompt(self.actor(user), chat, message, prompt.data))

    async def handle_reply(
        self, user: UserView, text: str, chat: str, replied_to: str, *, idempotency_key: str | None = None
    ) -> Reply:
        """Text typed in reply to message `replied_to` of `chat`: the answer to the prompt remembered there (see
        `remember_prompt`), else an ordinary message."""
        data = await self.core.execute(RecallPrompt(self.actor(user), chat, replied_to))
        if data:
            return await self.handle_button(user, data, answer=text, idempotency_key=idempotency_key)
        return await self.handle_text(user, text, idempotency_key=idempotency_key)

    def refuse_file(self, filename: str | None, mime_type: str | None, size: int | None) -> Reply | None:
        """Why a file the user shared won't be imported (it isn't a CSV, or it is over IMPORT_MAX_UPLOAD_BYTES),
        from what the platform announces, before anything is downloaded; None when it may be."""
        if not is_csv(filename, mime_type):
            return Reply(NOT_A_CSV.format(name=quoted(filename) if filename else "that file"), ephemeral=True)
        try:
            check_upload_size(size, self.max_upload_bytes)
        except PipedrivenError as exc:
            return Reply(exc.user_message, ephemeral=True)
        return None

    async def handle_file(
        self, user: UserView, data: bytes, filename: str | None = None, *, idempotency_key: str | None = None
    ) -> Reply:
        """A CSV the user shared in chat (a Slack DM file, a Telegram document): imported into their own bank,
        answered with the import report. Adapters ask `refuse_file` first so that an oversized file is never
        downloaded. The key names the platform's file: the same file again is imported once (and said so)."""
        try:
            report = await import_upload(
                self.core, self.actor(user), data, filename=filename, idempotency_key=idempotency_key
            )
            if isinstance(report, AlreadyDone):
                return Reply(ALREADY_IMPORTED, ephemeral=True, repeat=True)
            return render.result(report, user)
        except PipedrivenError as exc:
            return Reply(exc.user_message, ephemeral=True)
        except Exception:
            log.exception("unexpected error importing a file")
            return Reply(SOMETHING_WENT_WRONG, ephemeral=True)

    async def contact_to_edit(self, user: UserView, data: str) -> ContactView:
        """The contact an `edit:` button edits (Slack opens its form with every field filled in); raises
        PipedrivenError when the button is bad or the contact not the user's."""
        button = codec.decode(data)
        if button.verb != "edit":
            raise codec.BadButton()
        return (await self.core.execute(ShowContact(self.actor(user), ContactRef(id=button.contact_id)))).contact

    async def submit_edit_form(
        self, user: UserView, contact_id: int, changes: dict[str, str], *, idempotency_key: str | None = None
    ) -> Reply:
        """The fields a user changed in a contact form (`{"email": "ana@x", "phone": ""}`, an emptied one as "")
        set in one edit, answered as a typed `edit` is. A value the core refuses raises its PipedrivenError,
        whose `field` names the one."""
        actor, ref = self.actor(user), ContactRef(id=contact_id)
        fields = [(field, value.strip()) for field, value in changes.items() if field in _EDIT_FIELDS]
        if not fields:
            contact = (await self.core.execute(ShowContact(actor, ref))).contact
            return Reply(f"Nothing changed: {contact.name} is as it was.", ephemeral=True)
        (field, value), *more = fields
        return await self._run(user, EditContact(actor, ref, field, value, tuple(more)), idempotency_key)

    async def digest(self, user: UserView, day: date | None = None) -> Reply | None:
        """The morning list of `day` (the user's local day), or None when there is nothing to suggest. On a
        Monday, the Golden Ticket team's digest opens with last week's summary (and is sent even with no list)."""
        result = await self.core.execute(TodaySuggestions(self.actor(user)))
        hello = f"☀️ Good morning {user.name.split()[0]}!"
        if not (user.is_golden_ticket and day is not None and day.isoweekday() == 1):
            return render.suggestions(result, header=f"{hello} Who to contact today:") if result.items else None
        sections, pictures = render.weekly_summary(await self.core.execute(GetWeeklySummary(self.actor(user))))
        if not result.items:
            return Reply(f"{hello} Here is last week:", sections, ephemeral=True, attachments=pictures)
        rows = render.suggestions(result, header="").sections
        return Reply(
            f"{hello} Last week, then who to contact today:",
            (*sections, Section(text="👉 Who to contact today:"), *rows),
            ephemeral=True,
            attachments=pictures,
        )

    async def home(self, user: UserView) -> Reply:
        """The user's overview: today's list, follow-ups due today and their numbers this month."""
        return await self._run(user, ShowHome(self.actor(user)))

    async def _run(self, user: UserView, command, idempotency_key: str | None = None) -> Reply:
        result = await self.core.execute(command, idempotency_key=idempotency_key)
        return render.result(result, user)

    async def _button_command(
        self, user: UserView, button: codec.ButtonData, answer: str | None, idempotency_key: str | None = None
    ):
        ref = ContactRef(id=button.contact_id)
        actor = self.actor(user)
        verb, arg = button.verb, button.arg
        if verb in _ASK_FIRST and arg != CONFIRMED:
            return await self._confirm(actor, ref, verb)
        if verb == "keep":
            return await self._kept(actor, ref, arg)
        if verb == "log":
            return LogOutreach(actor, ref, arg or "")
        if verb == "warm":
            return FlagWarm(actor, ref)
        if verb == "mreq":
            return RequestMeeting(actor, ref)
        if verb == "done":
            return CompleteFollowUp(actor, ref)
        if verb == "show":
            return ShowContact(actor, ref)
        if verb in _PLAN_CONTROLS:
            return _PLAN_CONTROLS[verb](actor, ref)
        if verb == "rm":
            return ArchiveContact(actor, ref) if arg == "y" else PreviewRemoval(actor, ref)
        if verb == "restore":
            return RestoreContact(actor, ref)
        if verb == "merge":
            if not (arg or "").isdigit() or len(arg) > 12:
                raise codec.BadButton()
            return MergeContacts(actor, keep=ref, other=ContactRef(id=int(arg)))
        if verb == "undo":
            if not (arg or "").isdigit() or len(arg) > 18:
                raise codec.BadButton()
            return UndoOutreach(actor, ref, int(arg))
        if verb == "unedit":
            if not (arg or "").isdigit() or len(arg) > 18:
                raise codec.BadButton()
            return UndoContactEdit(actor, ref, int(arg))
        if verb == "forget":
            return EraseContact(actor, ref)
        if verb == "add":
            return _button_add(actor, arg, self.now_for(user))
        if verb in _DRAFT_VERBS:
            return await self._draft_command(user, button, answer, idempotency_key)
        if verb == "edit":
            return await self._edit(actor, ref, arg, answer)
        if verb == "more":
            detail = await self.core.execute(ShowContact(actor, ref))
            return render.more_menu(detail.contact, detail.plan)
        if verb == "note":
            if answer is None:
                return await self._ask(actor, ref, "note", "Type the note for {name}:")
            return AddNote(actor, ref, answer)
        when_text = arg or answer
        if verb in ("mbook", "remind", "snooze") and when_text is None:
            question = {
                "mbook": "When is the meeting with {name}? (e.g. tomorrow 10:00, 2026-12-01 14:30)",
                "remind": "When should I remind you about {name}? (e.g. 3d, next monday)",
                "snooze": "Snooze {name} until when? (e.g. 1w, 2026-12-01)",
            }[verb]
            return await self._ask(actor, ref, verb, question)
        at = self._when(user, when_text)
        if verb == "mbook":
            return BookMeeting(actor, ref, at=at)
        if verb == "remind":
            return SetFollowUp(actor, ref, at)
        if verb == "snooze":
            return Snooze(actor, ref, at)
        raise codec.BadButton()

    async def _undo_last(self, user: UserView, query: FindLastUndoable, idempotency_key: str | None) -> Reply:
        """`undo`: take back the user's last outreach or contact edit, with the core command its button runs."""
        last = await self.core.execute(query)
        if last is None:
            return Reply(NOTHING_TO_UNDO, ephemeral=True)
        ref = ContactRef(id=last.contact_id)
        if last.kind == "edit":
            return await self._run(user, UndoContactEdit(query.actor, ref, last.id), idempotency_key)
        return await self._run(user, UndoOutreach(query.actor, ref, last.id), idempotency_key)

    async def _confirm(self, actor: Actor, ref: ContactRef, verb: str):
        """A button that can't be taken back asks first, with Confirm and Keep; with nothing to act on (no open
        cadence to stop), the command itself runs, and the core says why it can't."""
        detail = await self.core.execute(ShowContact(actor, ref))  # checks the user may touch it
        if verb == "cstop" and (detail.plan is None or not detail.plan.is_open):
            return _PLAN_CONTROLS[verb](actor, ref)
        question, label, _ = _ASK_FIRST[verb]
        contact_id = detail.contact.id
        return Reply(
            question.format(name=detail.contact.name, strategy=detail.plan.strategy if detail.plan else ""),
            footer=(
                Button(label, codec.encode(verb, contact_id, CONFIRMED)),
                Button("Keep", codec.encode("keep", contact_id, verb)),
            ),
            ephemeral=True,
        )

    async def _kept(self, actor: Actor, ref: ContactRef, verb: str | None) -> Reply:
        if verb not in _ASK_FIRST:
            raise codec.BadButton()
        detail = await self.core.execute(ShowContact(actor, ref))
        return Reply(_ASK_FIRST[verb][2].format(name=detail.contact.name), ephemeral=True)

    async def _draft_command(
        self, user: UserView, button: codec.ButtonData, answer: str | None, idempotency_key: str | None
    ):
        """A tap on an interaction's preview: confirm, pick the contact or the method, add the contact, correct
        the line (asked for, then read again into the same draft) or cancel."""
        actor, verb, draft = self.actor(user), button.verb, _draft_id(button.arg)
        if verb == "iok":
            return ConfirmInteraction(actor, draft)
        if verb == "ino":
            return DiscardInteractionDraft(actor, draft)
        if verb == "ipick":
            return ChooseDraftContact(actor, draft, button.contact_id or None)
        if verb == "imethod":
            return SetDraftMethod(actor, draft, (button.arg or "").partition(":")[2])
        if verb == "iadd":
            shown = await self.core.execute(ShowInteractionDraft(actor, draft))
            name, organisation = shown.fields.contact_name, shown.fields.organisation
            if not name:
                raise codec.BadButton()
            added = await self.core.execute(
                AddContact(actor, name, organisation=organisation),
                idempotency_key=f"{idempotency_key}:add" if idempotency_key else None,
            )
            if isinstance(added, AlreadyDone):
                return render.result(added, user)
            return ChooseDraftContact(actor, draft, added.contact.id)
        if answer is None:  # iedit: ask for the line again, with the line as it was to copy
            shown = await self.core.execute(ShowInteractionDraft(actor, draft))
            question = f"Type the line again, corrected (it was {quoted(shown.text, 200)}):"
            data = codec.encode("iedit", button.contact_id, str(draft))
            return Reply(question, prompt=Prompt(question, data, default=shown.text), ephemeral=True)
        reading = read_interaction(answer, self.now_for(user))
        if reading is None:
            return Reply(
                f"I can't read {quoted(answer, 60)} as something that happened with a contact, so the preview "
                "stays as it was. Try something like `called Bob, no answer, try again Tuesday`.",
                ephemeral=True,
            )
        return SaveInteractionDraft(actor, answer, interaction_fields(reading), draft_id=draft)

    def _when(self, user: UserView, text: str) -> datetime:
        try:
            at = datetime.fromisoformat(text)
            if at.tzinfo is None:
                at = at.replace(tzinfo=ZoneInfo(user.timezone))
        except ValueError:
            at = parse_when(text, self.now_for(user))
        return at.astimezone(UTC)

    async def _ask(self, actor: Actor, ref: ContactRef, verb: str, question: str) -> Reply:
        detail = await self.core.execute(ShowContact(actor, ref))  # checks the user may touch it
        name = detail.contact.name
        return Reply(
            question.format(name=name),
            prompt=Prompt(question.format(name=name), codec.encode(verb, detail.contact.id)),
            ephemeral=True,
        )

    async def _edit(self, actor: Actor, ref: ContactRef, field: str | None, answer: str | None):
        """The edit dialogue: which field (no field yet), the field's new value (no answer yet), then the edit."""
        if field is not None and field not in _EDIT_FIELDS:
            raise codec.BadButton()
        if field is not None and answer is not None:
            return EditContact(actor, ref, field, answer)
        contact = (await self.core.execute(ShowContact(actor, ref))).contact  # checks the user may touch it
        if field is None:
            return render.edit_fields(contact)
        question = render.edit_question(contact, field)
        return Reply(question, prompt=Prompt(question, codec.encode("edit", contact.id, field)), ephemeral=True)
