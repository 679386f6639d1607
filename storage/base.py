"""The Store: the one seam between the inbox and its database (SQLite or PostgreSQL), as roles.

A service takes only the roles it uses (SchemaAdmin, IntakeStore, RoutingStore, EventLog here;
PolicyStore, DeskStore, OutboxStore, MailState, AccountStore in storage.roles). Every
implementation passes the same contract suite (tests/storage/test_contract*.py). Only
`inbox.core.errors.StorageError` subclasses escape, with the driver's exception chained as the
cause. Every mutation writes its event rows in the same transaction, so the log never disagrees
with the state it describes. Timestamps go in and come out as aware UTC datetimes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, Self

from inbox.core.audit import AuditQuery, StandingRead
from inbox.core.decisions import Assign, Decision, QueueDepth, RoutingSnapshot
from inbox.core.model import (
    NO_LABELS,
    ChannelKind,
    ContactFacts,
    Conversation,
    ConversationId,
    CounselorUpdate,
    Event,
    InboundMessage,
    IntakeLabels,
    OutboxId,
    StoredInbound,
    User,
    UserId,
)
from storage.roles import (
    AccountStore,
    ActivityStore,
    AgencyStore,
    BoardStore,
    CallStore,
    CannedReplyStore,
    ContextStore,
    DeskStore,
    FollowUpStore,
    LineStore,
    MailState,
    OutboxStore,
    PolicyStore,
    PresenceStore,
    ProfileStore,
    ReferralStore,
    ReportStore,
    SmsStore,
    SurveyStore,
    VoiceStore,
)

# The schema version this code expects; each implementation has migrations 1..SCHEMA_VERSION.
SCHEMA_VERSION = 17


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyedInbound:
    """An inbound message with the keyed hash of its sender, the only thing contacts match on."""

    message: InboundMessage
    identity_hash: str
    labels: IntakeLabels = NO_LABELS


class IntakeRouter(Protocol):
    """Routing inside the intake transaction (inbox.router.Router implements it).

    A conversation the batch opens is given to a counselor in the same transaction that stores
    it, when the store can tell who is free: it is then written already assigned, with its
    conversation_assigned event, instead of being written queued and updated by the next router
    round. The store builds the snapshot (the counselors, what waited before, the batch's new
    conversations) and asks for the decisions; it writes them only when they assign nothing
    that waited before, else it leaves the whole batch queued for the router's round, so what
    waited keeps its place (storage.intake_routing). Pure and quick: on SQLite it runs on the
    database thread."""

    def clock(self) -> datetime:
        """Now, as the router's own rounds would take it."""

    def decide(self, snapshot: RoutingSnapshot, now: datetime) -> Sequence[Decision]:
        """One decision per waiting conversation, exactly as a router round would decide."""

    def lapsed_before(self, now: datetime) -> datetime | None:
        """Offers made before this have lapsed (None: offers never lapse). A round takes them
        back before it decides; while one waits to be, the store leaves routing to the round."""

    def closed_day(self, at: datetime) -> bool:
        """Whether `at` falls on one of the desk's closed days, when shifts that follow them
        are off (inbox.core.shifts.DeskClosed): the rule the router's own decisions use."""


@dataclass(frozen=True, slots=True)
class FeedCursor:
    """Where a tail of the event log stands. Only the store that made it reads its fields."""

    id: int = 0  # SQLite: the last event read
    # PostgreSQL: the snapshot (pg_snapshot text) whose events have all been handed out; while
    # the news up to a newer one come page by page, that one and the last (tx, id) read.
    seen: str = ""
    upto: str = ""
    tx: int = 0


@dataclass(frozen=True, slots=True)
class FeedPage:
    events: list[Event]
    cursor: FeedCursor  # pass it to the next feed_events


class EventTail(Protocol):
    """The event log read as a tail (inbox.feed.EventFeed): every event exactly once."""

    async def feed_start(self) -> FeedCursor:
        """A cursor past every event committed so far: a new tail gets news, not history."""

    async def feed_events(self, after: FeedCursor, *, limit: int = 500) -> FeedPage:
        """Events committed since `after`, each once across successive calls, even when writers
        commit out of id order (on PostgreSQL they do: ids are taken before commit). At most
        `limit`; a full page means ask again at once."""


class SchemaAdmin(Protocol):
    """Opening the database, its schema, and news of other instances."""

    async def __aenter__(self) -> Self:
        """Open the connection or pool. Raises DatabaseUnavailable when it cannot be reached."""

    async def __aexit__(self, *exc: object) -> None:
        """Close the connection or pool."""

    async def schema_version(self) -> int:
        """The version applied to the database; 0 for an empty database."""

    async def migrate(self) -> list[int]:
        """Apply pending migrations in order, each in its own transaction; return their versions.
        Safe against a concurrent migrate from another process. Raises SchemaMismatch when the
        database is newer than SCHEMA_VERSION."""

    async def listen(
        self,
        on_change: Callable[[bool], None],
        on_arrival: Callable[[int, datetime], None] | None = None,
    ) -> None:
        """Until cancelled, call on_change(needs_routing) whenever ANOTHER instance sharing the
        database commits events (needs_routing: new messages, freed capacity and the like), and
        once after each (re)connection; on_arrival(priority, queued_at) instead when all its
        intake did was open conversations left waiting (the highest priority among them, the
        earliest time they queued at), if given. Never returns on a store only one process can
        use."""

    async def lead_router(self, leading: asyncio.Event) -> None:
        """Until cancelled, keep `leading` set while this instance's router is the one that
        runs rounds (one at a time on a database several instances share: a lease; the
        others wait, and one takes over within seconds when the leader stops), cleared while
        it is not. Always set on a store only one process can use."""

    async def ping(self) -> None:
        """Round-trip to the database. Raises DatabaseUnavailable."""


class IntakeStore(Protocol):
    """Storing what the channels bring (hand-written per dialect, for speed), and what is known
    of their senders (storage.policies)."""

    @property
    def intake_writers(self) -> int:
        """How many batches the store commits side by side (inbox.pipeline's lanes): 1 where
        writes take turns anyway (SQLite), one per intake connection on PostgreSQL."""

    async def save_inbound_batch(
        self, items: Sequence[KeyedInbound], *, router: IntakeRouter | None = None
    ) -> list[StoredInbound]:
        """Store many inbound messages in ONE transaction, answering in the same order.

        Idempotent on (channel, external_id): a repeat, also within the batch, returns the
        stored message's ids with duplicate=True. Finds or creates the contact by
        (channel, identity_hash), keeps the raw sender only for replying, threads the message
        into the contact's open conversation on that channel or opens a new queued one. A
        message to a WAITING conversation puts it back to ASSIGNED (or QUEUED when it has no
        assignee). Writes message_received (and conversation_opened) events. Keeps the content
        of every attachment that has one (a repeat adds none), and lists every attachment on the
        message, stored=True for those. Nothing is stored if it raises.

        With `router`, the conversations the batch opens are routed in the same transaction
        (see IntakeRouter), never beyond a counselor's capacity, and those given to someone
        answer with assigned_to. Every new message answers queued=True when its conversation is
        left without an assignee (the router's work). If the router raises, the batch is stored
        with its new conversations queued."""

    async def contact_facts(
        self, identities: Sequence[tuple[ChannelKind, str]]
    ) -> dict[tuple[ChannelKind, str], ContactFacts]:
        """What is known of each sender (channel, identity hash) that wrote before; a sender
        missing from the answer is new (inbox.core.model.NEW_SENDER). For rules at intake."""


class RoutingStore(Protocol):
    """The router's snapshot and apply (per dialect), the rest of assignment (storage.assignment)
    and giving one conversation to someone (storage.desk)."""

    async def routing_snapshot(self) -> RoutingSnapshot:
        """Queued unassigned conversations on unpaused channels (most urgent, then longest
        waiting, first) with what routing needs of each (skill, team, language, declined_by, the
        contact's previous counselor; for a phone conversation its callback_due_at and her
        contacts.call_window as stored), and every enabled counselor and phone staff member with
        her roles, routing profile and current load (assigned + waiting), in total and per
        channel."""

    async def apply_assignments(self, assigns: Sequence[Assign], *, now: datetime) -> list[Assign]:
        """Apply each assignment only if the conversation is still queued and unassigned, the
        counselor is still available, and her load is still below `capacity` and, when given,
        her load on the channel below `channel_capacity` (checked in the database, so concurrent
        routers cannot exceed it). Each applied one is an offer (offered_at = now) with an
        event. Returns the ones that applied."""

    async def assign(
        self,
        conversation_id: ConversationId,
        user_id: UserId,
        *,
        actor_id: UserId,
        now: datetime,
        capacity: int | None,
        on_call: bool = False,
        unclaimed: bool = False,
    ) -> Conversation:
        """Give an open conversation to a counselor. With `capacity`, only while her load is
        below it; None overrides the check (a supervisor's decision). `on_call`: the router
        hands it to the person on call (its conversation_assigned event says `"via": "on_call"`,
        which Store.unsent_on_call and unreplied_arrivals read). `unclaimed`: only while it is
        nobody's or hers already (assigned or offered), checked under its lock (two staff
        dialing one callback at once: the second is refused). Raises NotFound, or
        Conflict when closed, the user is not an enabled counselor or phone staff, its channel
        is not hers (a phone conversation only phone staff, any other only counselors:
        inbox.core.decisions.takes_channel), she is at capacity, or (`unclaimed`) it is
        another's."""

    async def update_counselor(
        self, user_id: UserId, change: CounselorUpdate, *, actor_id: UserId, now: datetime
    ) -> User:
        """Change presence, capacity (total and per channel), skills, languages, teams or shift;
        a counselor_updated event names the fields. Raises NotFound, or Conflict when the user
        is not a counselor. Takes the same counselor lock as assignment (PostgreSQL)."""

    async def mark_opened(
        self, conversation_id: ConversationId, user_id: UserId, *, now: datetime
    ) -> bool:
        """The assignee opened her offer: it can no longer lapse. True the first time only."""

    async def requeue_lapsed_offers(
        self, *, offered_before: datetime, now: datetime, limit: int = 500
    ) -> list[tuple[ConversationId, UserId]]:
        """Router offers not opened since `offered_before` go back to the queue at their old
        place; the counselor joins the conversation's declined_by. An offer_lapsed event each."""

    async def requeue(
        self,
        conversation_id: ConversationId,
        *,
        actor_id: UserId,
        now: datetime,
        note: str | None = None,
    ) -> Conversation:
        """Take an open conversation from its counselor back to the queue (drain, handover),
        with an optional handover note, in one transaction. Raises NotFound or Conflict."""

    async def set_channel_paused(
        self, channel: ChannelKind, paused: bool, *, actor_id: UserId, now: datetime
    ) -> None:
        """A paused channel still takes in messages, but the router leaves them queued."""

    async def paused_channels(self) -> frozenset[ChannelKind]:
        """The channels paused now."""

    async def queue_depth(self, *, now: datetime) -> list[QueueDepth]:
        """Unassigned queued conversations by channel and priority (paused channels included),
        callbacks not due by `now` left out (storage.assignment.QUEUE_DEPTH)."""

    async def next_callback_due(self, *, after: datetime) -> datetime | None:
        """The earliest callback_due_at after `after` of the queued unassigned phone
        conversations (callbacks not due yet), None if there is none: when the router must look
        again, also for callbacks beyond the page its snapshot reads."""


class EventLog(EventTail, Protocol):
    """The event log every change writes (storage.events)."""

    async def list_events(self, *, after_id: int = 0, limit: int = 500) -> list[Event]:
        """Events with id > after_id, oldest first. On PostgreSQL a later call may still find
        smaller ids that committed late: a tail reads feed_events instead."""

    async def last_event_id(self) -> int:
        """The id of the newest event; 0 when the log is empty."""

    async def audit_events(self, query: AuditQuery) -> list[Event]:
        """The events the query asks for, newest (highest id) first, at most query.limit."""

    async def record_read(
        self,
        conversation_id: ConversationId,
        actor_id: UserId,
        *,
        now: datetime,
        coalesce: timedelta,
    ) -> StandingRead:
        """Write her conversation_read event, unless she has one of this conversation newer
        than `now - coalesce` (then it is the same read): whether it was written, and the time
        of her read that stands (now, or that latest one). Two reads at
        the same moment from two instances may both be written."""

    async def record_event(
        self,
        kind: str,
        *,
        now: datetime,
        actor_id: UserId | None = None,
        conversation_id: ConversationId | None = None,
        data: dict[str, object] | None = None,
    ) -> None:
        """Append an event that accompanies no state change (sign-in, user created, ...)."""


class Store(
    SchemaAdmin,
    IntakeStore,
    RoutingStore,
    PolicyStore,
    DeskStore,
    ContextStore,
    CannedReplyStore,
    OutboxStore,
    MailState,
    AccountStore,
    PresenceStore,
    EventLog,
    BoardStore,
    LineStore,
    ReportStore,
    SmsStore,
    CallStore,
    VoiceStore,
    FollowUpStore,
    SurveyStore,
    AgencyStore,
    ReferralStore,
    ProfileStore,
    ActivityStore,
    Protocol,
):
    """Every role: what SqliteStore and PostgresStore each are. A service takes only the roles
    it uses."""


__all__ = ["SCHEMA_VERSION", "KeyedInbound", "OutboxId", "Store"]
