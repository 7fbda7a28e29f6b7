"""SQLAlchemy 2 typed models: the one schema of Pipedriven. Times are `timestamptz`, stored in UTC."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.vocabulary import ACTIVITY_KINDS, CAMPAIGN_STATUSES, MAX_WARMNESS, OUTCOMES, OUTREACH_METHODS, ROLES

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SYNC_STATES = ("none", "pending", "synced", "failed")
FOLLOW_UP_STATUSES = ("open", "done", "cancelled")
OUTBOX_STATUSES = ("pending", "processing", "done", "failed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _now():
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        Index("uq_users_email_lower", text("lower(email)"), unique=True),
        # The scheduler's beat: the users of a digest moment whose digest for that day is not claimed yet.
        Index(
            "ix_users_digest_moment",
            "timezone",
            "digest_time",
            text("coalesce(digest_claimed_through, '-infinity'::date)"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20), server_default="consultant")
    timezone: Mapped[str] = mapped_column(String(64), server_default="Europe/London")
    digest_time: Mapped[time] = mapped_column(Time, server_default=text("'08:30'"))
    # ISO weekdays (1 = Monday) on which the user gets a digest.
    working_days: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger), server_default=text("'{1,2,3,4,5}'"))
    digest_paused_until: Mapped[date | None] = mapped_column(Date)
    # The one platform digests and nudges go to; None means every platform the user has linked.
    digest_platform: Mapped[str | None] = mapped_column(String(20))
    # The last local day whose digest is claimed on every platform the user is reached on (core.deliveries);
    # cleared by the database when the user is reached somewhere new (an account linked, another platform chosen).
    digest_claimed_through: Mapped[date | None] = mapped_column(Date)
    pipedrive_user_id: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = _now()
    # Cadences: how the user signs a message; `{{user.signature}}` in a step's template (the name when unset).
    signature: Mapped[str | None] = mapped_column(Text)
    # --- Pipedrive sync ---
    # The user's own Pipedrive API token, encrypted (core/encryption.py); when set it is used instead of the
    # company's PIPEDRIVE_API_TOKEN.
    pipedrive_api_token: Mapped[str | None] = mapped_column(Text)


class ChatIdentity(Base):
    """A user's account on a chat platform; a user may have several."""

    __tablename__ = "chat_identities"
    __table_args__ = (UniqueConstraint("platform", "external_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    external_user_id: Mapped[str] = mapped_column(String(100))
    dm_channel: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = _now()
    # The last permanent delivery failure (blocked the bot, account deactivated), cleared by the next success.
    delivery_error: Mapped[str | None] = mapped_column(Text)
    delivery_failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChatContext(Base):
    """What a user last saw on a platform, so that `log 3 linkedin` means the third row of that list."""

    __tablename__ = "chat_contexts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_contact_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), server_default=text("'{}'"))
    updated_at: Mapped[datetime] = _now()


# A contact's rank_ceiling (migration 0028): the points core.feed.ranking gives for warmness, past business, a rule
# from outcomes that may fire (a warm contact's always may) and a campaign, at most.
RANK_CEILING_SQL = (
    "6 * warmness + CASE WHEN past_business > 0 THEN 15 * least(ln(1 + CAST(past_business AS float8)) / "
    "ln(1 + 100000), 1) ELSE 0 END + CASE WHEN rule_may_fire OR warmness >= 4 THEN 50 ELSE 0 END "
    "+ CASE WHEN in_campaign THEN 15 ELSE 0 END"
)


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        CheckConstraint(f"warmness BETWEEN 0 AND {MAX_WARMNESS}", name="warmness"),
        CheckConstraint("past_business >= 0", name="past_business"),
        Index(
            "uq_contacts_owner_id_email",
            "owner_id",
            text("lower(email)"),
            unique=True,
            postgresql_where=text("email IS NOT NULL"),
        ),
        # Covers the ranking's scan of a bank (core.feed.ranking): read from the index alone; removed contacts
        # are left out of it, as they are out of the ranking.
        Index(
            "ix_contacts_owner_id_last_contacted_at",
            "owner_id",
            "last_contacted_at",
            postgresql_include=["warmness", "past_business", "id"],
            postgresql_where=text("archived_at IS NULL"),
        ),
        # Rule nudges: a bank's contacts touched (or, never touched, added) lately (core.deliveries).
        Index("ix_contacts_owner_id_recent", "owner_id", text("coalesce(last_contacted_at, created_at)")),
        # The words of search_key, for `find`'s word prefixes (core.contacts.search).
        Index("ix_contacts_search_words", text("contact_words(search_key)"), postgresql_using="gin"),
        # `find everyone`: a field equal to the text; the trigrams inside words, for in-word fragments; every bank's
        # contacts in list order, with search_key, to match the first of them from the index alone
        # (core.contacts.search).
        Index("ix_contacts_search_fields", text("contact_fields(search_key)"), postgresql_using="gin"),
        Index("ix_contacts_search_word_trigrams", text("contact_trigrams(search_key)"), postgresql_using="gin"),
        Index(
            "ix_contacts_listed",
            text("warmness DESC"),
            "name",
            "id",
            postgresql_include=["search_key"],
            postgresql_where=text("archived_at IS NULL"),
        ),
        # Today's list reads a bank in descending order of rank_ceiling, only as far as its top rows need
        # (core.feed.ranking).
        Index(
            "ix_contacts_rank_ceiling",
            "owner_id",
            text("rank_ceiling DESC"),
            "id",
            postgresql_include=["last_contacted_at", "warmness"],
            postgresql_where=text("archived_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    organisation: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    linkedin_url: Mapped[str | None] = mapped_column(String(500))
    sector: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2 (core.countries)
    warmness: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    last_contacted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    past_business: Mapped[Decimal] = mapped_column(Numeric(14, 2), server_default="0")
    past_business_currency: Mapped[str | None] = mapped_column(String(3))
    notes: Mapped[str | None] = mapped_column(Text)
    pipedrive_person_id: Mapped[int | None] = mapped_column(BigInteger)
    pipedrive_org_id: Mapped[int | None] = mapped_column(BigInteger)
    pipedrive_note_id: Mapped[int | None] = mapped_column(BigInteger)  # the Pipedrive note `notes` became
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    # --- changes from Pipedrive (core.inbound) ---
    # Per field, the time of the last Pipedrive change applied (ISO): an older event never moves it back.
    pipedrive_field_times: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'"))
    pipedrive_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pipedrive_change: Mapped[str | None] = mapped_column(String(200))  # what the last change was, for `show`
    pipedrive_deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pipedrive_owner: Mapped[str | None] = mapped_column(String(200))  # who owns its person in Pipedrive, by name
    # Removed from the owner's bank (core.contacts): out of every list, kept with its history, restorable.
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Name, email and organisation with accents and case folded (contact_fold, migration 0021), kept by PostgreSQL
    # on every write; what `find` matches (core.contacts.search).
    search_key: Mapped[str] = mapped_column(
        Text,
        Computed(
            "contact_fold(coalesce(name, '') || E'\\n' || coalesce(email, '') || E'\\n' || coalesce(organisation, ''))",
            persisted=True,
        ),
    )
    # --- today's list (core.feed.ranking) ---
    # Kept by triggers (migration 0028): a rule from outcomes may fire on its last touch or last meeting news; it is
    # in a campaign (any status).
    rule_may_fire: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    in_campaign: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # The most the list's parts that don't depend on the day can give it (warmness, past business, a rule, a
    # campaign), kept by PostgreSQL on every write.
    rank_ceiling: Mapped[float] = mapped_column(Float, Computed(RANK_CEILING_SQL, persisted=True))


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(_in("status", CAMPAIGN_STATUSES), name="status"),
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="dates"),
        Index("uq_campaigns_name_lower", text("lower(name)"), unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    sector: Mapped[str | None] = mapped_column(String(200))
    theme: Mapped[str | None] = mapped_column(String(200))
    geography: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), server_default="draft")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _now()


class CampaignContact(Base):
    __tablename__ = "campaign_contacts"
    __table_args__ = (
        UniqueConstraint("campaign_id", "contact_id"),
        Index("ix_campaign_contacts_contact_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    outreach_method: Mapped[str | None] = mapped_column(String(20))
    last_outreach_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), server_default="planned")
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = _now()


class Activity(Base):
    """Something that happened with a contact: an outreach, a note, a meeting requested or booked.

    `channel` is the outreach method the activity counts under in stats: the kind itself for an outreach,
    and the method that led to it for a meeting. `contact_id` is nulled when a contact is erased, so the
    counts of past activity stay right.
    """

    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint(_in("kind", ACTIVITY_KINDS), name="kind"),
        CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),
        CheckConstraint(_in("sync_state", SYNC_STATES), name="sync_state"),
        Index("ix_activities_contact_id_occurred_at", "contact_id", "occurred_at"),
        Index("ix_activities_user_id_occurred_at", "user_id", "occurred_at"),
        Index("ix_activities_occurred_at", "occurred_at"),  # stats: the hours at a period's ends (core.stats)
        Index("ix_activities_campaign_id", "campaign_id"),
        # A contact's last meeting news (core.rules.outcomes: a meeting requested but not booked).
        Index(
            "ix_activities_meeting_news",
            "contact_id",
            "occurred_at",
            postgresql_where=text("outcome IN ('meeting_requested', 'meeting_booked', 'not_interested')"),
        ),
        Index("ix_activities_pipedrive_activity_id", "pipedrive_activity_id"),
        # Rule nudges: the meetings requested lately (core.deliveries).
        Index("ix_activities_meeting_requested", "occurred_at", postgresql_where=text("outcome = 'meeting_requested'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(20), server_default="none")
    subject: Mapped[str | None] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()
    pipedrive_activity_id: Mapped[int | None] = mapped_column(BigInteger)
    pipedrive_note_id: Mapped[int | None] = mapped_column(BigInteger)  # the Pipedrive note a `note` became
    sync_state: Mapped[str] = mapped_column(String(10), server_default="none")

    # --- undo (core.outreach) ---
    # The contact's last_contacted_at before this activity touched it, so that an undo can put it back
    # even when it came from somewhere other than an activity (an import).
    previous_contacted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FollowUp(Base):
    """A reminder to get back to a contact; a snooze is a follow-up too (the contact returns when it falls due)."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        CheckConstraint(_in("status", FOLLOW_UP_STATUSES), name="status"),
        Index("ix_follow_ups_contact_id_open", "contact_id", postgresql_where=text("status = 'open'")),
        Index("ix_follow_ups_user_id_open", "user_id", postgresql_where=text("status = 'open'")),
        Index("ix_follow_ups_due_at_open", "due_at", postgresql_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), server_default="open")
    snoozed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime] = _now()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DomainEvent(Base):
    """Things that happened that others react to (ContactWarmed, MeetingRequested, MeetingBooked)."""

    __tablename__ = "domain_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    payload: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OutboxMessage(Base):
    """Work that leaves the process (a Pipedrive sync), written in the same transaction as its cause."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(_in("status", OUTBOX_STATUSES), name="status"),
        Index("ix_outbox_ready", "next_attempt_at", postgresql_where=text("status IN ('pending', 'processing')")),
        Index("ix_outbox_user_id_id", "user_id", "id"),  # Pipedrive sync: a user's `sync` list
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    topic: Mapped[str] = mapped_column(String(50))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    payload: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'"))
    status: Mapped[str] = mapped_column(String(12), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")  # failed ones, not counting 429s
    next_attempt_at: Mapped[datetime] = _now()
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    # --- Pipedrive sync ---
    # A worker's claim on a 'processing' row runs out at this moment (a crashed worker's row is taken again).
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A failure only a person can fix (a bad token, a missing field): the sentence owed to the acting user,
    # and when it was delivered. Owed while `user_notice` is set and `user_notified_at` is null.
    user_notice: Mapped[str | None] = mapped_column(Text)
    user_notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


PIPEDRIVE_EVENT_STATUSES = ("received", "applied", "ignored", "stale", "error")


class PipedriveEvent(Base):
    """A webhook from Pipedrive, stored once however often it is delivered, then applied by the worker.

    Its payload is kept only until it is applied (it holds personal data); then the row keeps ids and the outcome.
    """

    __tablename__ = "pipedrive_events"
    __table_args__ = (
        CheckConstraint(_in("status", PIPEDRIVE_EVENT_STATUSES), name="status"),
        Index("ix_pipedrive_events_waiting", "id", postgresql_where=text("status = 'received'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_key: Mapped[str] = mapped_column(String(200), unique=True)  # the event's identity: duplicates clash
    entity: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(10))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = _now()
    payload: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'"))
    status: Mapped[str] = mapped_column(String(12), server_default="received")
    outcome: Mapped[str | None] = mapped_column(Text)
    contact_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), server_default=text("'{}'"))
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PipedriveDeal(Base):
    """A Pipedrive deal as it stands for one linked contact: what of its value counts in the contact's past
    business (`counted`, in the contact's currency), and its status as of the latest event applied."""

    __tablename__ = "pipedrive_deals"
    __table_args__ = (Index("ix_pipedrive_deals_contact_id", "contact_id"),)

    deal_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    title: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(10))  # open, won, lost, deleted (or unlinked from the contact)
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2), server_default="0")
    currency: Mapped[str | None] = mapped_column(String(3))
    lost_reason: Mapped[str | None] = mapped_column(Text)
    counted: Mapped[Decimal] = mapped_column(Numeric(14, 2), server_default="0")
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # the latest event applied


class PipedriveNote(Base):
    """A chat message owed to a user about a change from Pipedrive (a deal won), sent by the scheduler once."""

    __tablename__ = "pipedrive_notes"
    __table_args__ = (Index("ix_pipedrive_notes_owed", "id", postgresql_where=text("notified_at IS NULL")),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PipedrivePollMark(Base):
    """How far the polling of one Pipedrive list (persons, deals…) has read: its high-water mark."""

    __tablename__ = "pipedrive_poll_marks"

    entity: Mapped[str] = mapped_column(String(30), primary_key=True)
    updated_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    polled_at: Mapped[datetime] = _now()


class ProcessedRequest(Base):
    """A chat delivery already acted on (a retried webhook, a redelivered update): the key makes it happen once."""

    __tablename__ = "processed_requests"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    command: Mapped[str] = mapped_column(String(50))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _now()


# --- linking chat accounts by code, and questions asked in a chat (Telegram adapter) ---------------------


class ChatLinkCode(Base):
    """A one-time code that links a chat account to a user (Telegram knows no email). Only its hash is kept."""

    __tablename__ = "chat_link_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChatPrompt(Base):
    """A question the bot asked in a chat (a note, a date): the user's reply to that message is matched back
    to the button that asked, whichever process receives it."""

    __tablename__ = "chat_prompts"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    data: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class InteractionDraft(Base):
    """A line read as an interaction (core.outreach), kept from its preview until the user confirms, corrects or
    cancels it; drafts older than a day are pruned. `candidate_ids`: the contacts that matched, while none is
    chosen."""

    __tablename__ = "interaction_drafts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    line: Mapped[str] = mapped_column(Text)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(200))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    candidate_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), server_default=text("'{}'"))
    method: Mapped[str | None] = mapped_column(String(20))
    outcome: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, server_default=text("''"))
    follow_up: Mapped[date | None] = mapped_column(Date)
    warm: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    meeting: Mapped[str | None] = mapped_column(String(10))
    meeting_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


# --- privacy: the audit trail and the record of erasures (core.privacy) --------------------------------
# Both tables are append-only: migration 0010 adds a trigger that refuses UPDATE, DELETE and TRUNCATE.
# They hold ids only, never a note or a personal field, so an erasure has nothing to remove from them.
# `user_id` / `erased_by` carry no foreign key: the trail must outlive (and never block) changes to users.


class AuditEntry(Base):
    """One command that changed data (or disclosed it: an export): who, from where, what, on which ids."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_occurred_at", "occurred_at"),
        Index("ix_audit_log_user_id_occurred_at", "user_id", "occurred_at"),
        Index("ix_audit_log_contact_ids", "contact_ids", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[int | None] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(String(20))
    command: Mapped[str] = mapped_column(String(60))
    contact_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), server_default=text("'{}'"))
    activity_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), server_default=text("'{}'"))
    campaign_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), server_default=text("'{}'"))
    user_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer), server_default=text("'{}'"))


class Erasure(Base):
    """That a person was erased: when, by whom, which contact rows, and their Pipedrive person ids."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    erased_by: Mapped[int] = mapped_column(Integer)
    platform: Mapped[str] = mapped_column(String(20))
    contact_ids: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    pipedrive_person_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), server_default=text("'{}'"))


# --- scheduler: digests and nudges sent to chat, once each ----------------------------------------------

DELIVERY_KINDS = ("digest", "nudge", "step", "rule")
# claimed: a process is sending it (until claimed_until; then another may take it over)
# retry: a temporary platform error, to be tried again from next_attempt_at
# sent; empty: a digest with nothing to suggest (nothing sent); skipped: too late or no longer due; failed
DELIVERY_STATUSES = ("claimed", "retry", "sent", "empty", "skipped", "failed")


class Delivery(Base):
    """One digest or nudge to one user on one platform. Its unique key makes it happen once, whatever the
    number of scheduler processes: a digest per user, platform and local day; a nudge per follow-up, due
    moment (a snooze moves it) and platform; a step nudge per cadence plan, step due moment and platform."""

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(_in("kind", DELIVERY_KINDS), name="kind"),
        CheckConstraint(_in("status", DELIVERY_STATUSES), name="status"),
        CheckConstraint(
            "(kind = 'digest' AND local_date IS NOT NULL) OR (kind = 'nudge' AND follow_up_id IS NOT "
            "NULL) OR (kind = 'step' AND plan_id IS NOT NULL) OR (kind = 'rule' AND contact_id IS NOT NULL AND rule "
            "IS NOT NULL)",
            name="key",
        ),
        Index(
            "uq_deliveries_digest",
            "user_id",
            "platform",
            "local_date",
            unique=True,
            postgresql_where=text("kind = 'digest'"),
        ),
        Index(
            "uq_deliveries_nudge",
            "follow_up_id",
            "due_at",
            "platform",
            unique=True,
            postgresql_where=text("kind = 'nudge'"),
        ),
        Index(
            "uq_deliveries_step", "plan_id", "due_at", "platform", unique=True, postgresql_where=text("kind = 'step'")
        ),
        Index(
            "uq_deliveries_rule",
            "contact_id",
            "rule",
            "due_at",
            "platform",
            unique=True,
            postgresql_where=text("kind = 'rule'"),
        ),
        Index("ix_deliveries_unfinished", "due_at", postgresql_where=text("status IN ('claimed', 'retry')")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(20))
    chat_identity_id: Mapped[int | None] = mapped_column(ForeignKey("chat_identities.id", ondelete="SET NULL"))
    local_date: Mapped[date | None] = mapped_column(Date)
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("follow_ups.id", ondelete="CASCADE"))
    # A cadence step's nudge: the plan (its step and due moment are the plan's when it was claimed).
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("contact_plans.id", ondelete="CASCADE"))
    # A rule from outcomes' nudge (core.rules): the contact and the rule; its due moment is the touch the rule
    # counts from, so a rule nudges once per touch, whatever the team's day counts become.
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    rule: Mapped[str | None] = mapped_column(String(20))
    # When it was due: the digest's local time that day, the follow-up's or the cadence step's due moment.
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10), server_default="claimed")
    claim_token: Mapped[str | None] = mapped_column(String(40))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")  # failed ones, not counting 429s
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = _now()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- cadences: contact strategies, their steps, and one plan per contact following a strategy ----------------

PLAN_STATUSES = ("not_started", "in_progress", "paused", "completed", "aborted")
# A plan whose current step can fall due; a paused plan is open too (one open plan per contact at most).
ACTIVE_PLAN_STATUSES = ("not_started", "in_progress")
OPEN_PLAN_STATUSES = ACTIVE_PLAN_STATUSES + ("paused",)
PLAN_END_REASONS = ("finished", "replied", "meeting_booked", "not_interested", "stopped", "restarted")
MAX_STEP_DELAY_DAYS = 365


class Strategy(Base):
    """A reusable cadence: ordered steps shared by the whole team. Built-in ones ship with the product."""

    __tablename__ = "strategies"
    __table_args__ = (Index("uq_strategies_name_lower", text("lower(name)"), unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    built_in: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class StrategyStep(Base):
    """One step of a strategy: `delay_days` working days after the previous step (or the start), do `kind`."""

    __tablename__ = "strategy_steps"
    __table_args__ = (
        UniqueConstraint("strategy_id", "position"),
        CheckConstraint(_in("kind", OUTREACH_METHODS), name="kind"),
        CheckConstraint("position >= 1", name="position"),
        CheckConstraint(f"delay_days BETWEEN 0 AND {MAX_STEP_DELAY_DAYS}", name="delay_days"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategies.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    delay_days: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    kind: Mapped[str] = mapped_column(String(20))
    subject_template: Mapped[str | None] = mapped_column(String(300))
    message_template: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class ContactPlan(Base):
    """A contact following a strategy. Rows are history: a restart ends the plan and starts a new one."""

    __tablename__ = "contact_plans"
    __table_args__ = (
        CheckConstraint(_in("status", PLAN_STATUSES), name="status"),
        CheckConstraint(f"end_reason IS NULL OR {_in('end_reason', PLAN_END_REASONS)}", name="end_reason"),
        Index(
            "uq_contact_plans_contact_id_open",
            "contact_id",
            unique=True,
            postgresql_where=text(_in("status", OPEN_PLAN_STATUSES)),
        ),
        Index(
            "ix_contact_plans_user_id_step_due_at",
            "user_id",
            "step_due_at",
            postgresql_where=text(_in("status", ACTIVE_PLAN_STATUSES)),
        ),
        Index("ix_contact_plans_strategy_id", "strategy_id"),
        # The scheduler's beat: the steps that have fallen due, in every bank (core.deliveries).
        Index(
            "ix_contact_plans_step_due_at",
            "step_due_at",
            postgresql_where=text(_in("status", ACTIVE_PLAN_STATUSES)),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    strategy_id: Mapped[int] = mapped_column(ForeignKey("strategies.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12), server_default="not_started")
    # The step to do next (1-based); on an ended plan, the step it ended at.
    current_step: Mapped[int] = mapped_column(SmallInteger, server_default="1")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    step_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(20))
    # The activity that last changed the plan, and the plan as it was before: undoing that outreach
    # (core.outreach) puts the plan back too.
    undo_activity_id: Mapped[int | None] = mapped_column(BigInteger)
    undo_state: Mapped[dict | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


# --- rate limits shared by every process (core.shared_limits) ----------------------------------------------


class RateBucket(Base):
    """The state of one rate limit for one key (core.ratelimit.Places as JSON), shared by every process.
    `idle_at`: from when it is as good as new, and may be dropped."""

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    state: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    idle_at: Mapped[float] = mapped_column(Float(precision=53), server_default=text("'-Infinity'"))


# --- stats rollups (core.stats): activity counts per UTC day and month -------------------------------------
# Kept by triggers on activities (migration 0023): every change of a counted activity (any kind but a note) is
# appended to activity_rollup_changes, and activity_rollups_fold() (housekeeping) moves those into
# activity_rollups. campaign_id and user_id carry no foreign key: when a campaign or a user goes, the
# activities' ids are set to NULL, and the trigger moves their counts there.

ROLLUP_AXES = ("user", "method")  # counts by campaign × user, and by campaign × method
ROLLUP_SPANS = ("day", "month")


class ActivityRollup(Base):
    """Activities of one campaign and one user (axis `user`) or method (axis `method`) over one UTC day or month."""

    __tablename__ = "activity_rollups"
    __table_args__ = (
        CheckConstraint(_in("axis", ROLLUP_AXES), name="axis"),
        CheckConstraint(_in("span", ROLLUP_SPANS), name="span"),
        Index(
            "uq_activity_rollups_key",
            "axis",
            "span",
            "starts_on",
            "campaign_id",
            "user_id",
            "channel",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    axis: Mapped[str] = mapped_column(String(6))
    span: Mapped[str] = mapped_column(String(5))
    starts_on: Mapped[date] = mapped_column(Date)
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(40))
    activities: Mapped[int] = mapped_column(Integer, server_default="0")  # any kind but a note
    outreach: Mapped[int] = mapped_column(Integer, server_default="0")
    requested: Mapped[int] = mapped_column(Integer, server_default="0")
    booked: Mapped[int] = mapped_column(Integer, server_default="0")


class ActivityRollupChange(Base):
    """One signed change of the counts of one UTC day, not yet folded into activity_rollups."""

    __tablename__ = "activity_rollup_changes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(40))
    activities: Mapped[int] = mapped_column(Integer, server_default="0")
    outreach: Mapped[int] = mapped_column(Integer, server_default="0")
    requested: Mapped[int] = mapped_column(Integer, server_default="0")
    booked: Mapped[int] = mapped_column(Integer, server_default="0")


# --- learning: which outreach method leads to a meeting, for whom (core.learning) -------------------------------

FIT_KINDS = ("nightly", "on_demand")


class MethodFit(Base):
    """One fit of the method rates: when, why, over which window, and the data it saw (team-wide counts)."""

    __tablename__ = "method_fits"
    __table_args__ = (CheckConstraint(_in("kind", FIT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(10))
    window_days: Mapped[int] = mapped_column(SmallInteger)  # a meeting this many days after an outreach counts
    prior_strength: Mapped[float] = mapped_column(Float(precision=53))  # the prior, in outreaches
    data_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # the first outreach it saw
    data_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # outreach whose window had closed by then
    outreach: Mapped[int] = mapped_column(Integer)
    meetings: Mapped[int] = mapped_column(Integer)
    contacts: Mapped[int] = mapped_column(Integer)
    users: Mapped[int] = mapped_column(Integer)
    team_rate: Mapped[float] = mapped_column(Float(precision=53))


class MethodRate(Base):
    """A method's chance of a meeting in one segment (dimension `all` is the method over the whole team), shrunk
    toward its parent: `lift` is the log-odds above the parent (the team's rate, or the method's own)."""

    __tablename__ = "method_rates"

    fit_id: Mapped[int] = mapped_column(ForeignKey("method_fits.id", ondelete="CASCADE"), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(10), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)
    method: Mapped[str] = mapped_column(String(20), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))  # the segment as a person reads it: "Fintech", "Germany"
    outreach: Mapped[int] = mapped_column(Integer)
    meetings: Mapped[int] = mapped_column(Integer)
    contacts: Mapped[int] = mapped_column(Integer)
    rate: Mapped[float] = mapped_column(Float(precision=53))
    low: Mapped[float] = mapped_column(Float(precision=53))  # the 90% interval
    high: Mapped[float] = mapped_column(Float(precision=53))
    lift: Mapped[float] = mapped_column(Float(precision=53))


class TeamRule(Base):
    """The team's own day count for one rule from outcomes (core.rules); a rule without a row uses the setting."""

    __tablename__ = "team_rules"
    __table_args__ = (CheckConstraint("days BETWEEN 1 AND 365", name="days"),)

    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    days: Mapped[int] = mapped_column(SmallInteger)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
