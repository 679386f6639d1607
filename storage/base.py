"""The Store Protocol: the one seam between the inbox and its database (SQLite or PostgreSQL).

Every implementation passes the same contract suite (tests/storage/test_contract.py). Only
`inbox.core.errors.StorageError` subclasses escape, with the driver's exception chained as the
cause.
Every mutation writes its event rows in the same transaction, so the log never disagrees with
the state it describes. Timestamps go in and come out as aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, Self

from inbox.core.model import (
    NO_LABELS,
    Anonymity,
    Assign,
    Attachment,
    AwaitingAnswer,
    ChannelKind,
    ContactAddress,
    ContactFacts,
    Conversation,
    ConversationId,
    ConversationStatus,
    CounselorUpdate,
    DeadlineChange,
    Decision,
    Event,
    InboundMessage,
    IntakeLabels,
    LastArrival,
    MailCursor,
    MailThread,
    Message,
    MessageId,
    NewUser,
    OutboxId,
    OutboxItem,
    QueueDepth,
    RoutingSnapshot,
    StoredInbound,
    User,
    UserId,
)

# The schema version this code expects; each implementation has migrations 1..SCHEMA_VERSION.
SCHEMA_VERSION = 5


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


class Store(EventTail, Protocol):
    async def __aenter__(self) -> Self:
        """Open the connection or pool. Raises DatabaseUnavailable when it cannot be reached."""

    async def __aexit__(self, *exc: object) -> None:
        """Close the connection or pool."""

    # ---- schema -------------------------------------------------------------------------
    async def schema_version(self) -> int:
        """The version applied to the database; 0 for an empty database."""

    async def migrate(self) -> list[int]:
        """Apply pending migrations in order, each in its own transaction; return their versions.
        Safe against a concurrent migrate from another process. Raises SchemaMismatch when the
        database is newer than SCHEMA_VERSION."""

    async def listen(self, on_change: Callable[[bool], None]) -> None:
        """Until cancelled, call on_change(needs_routing) whenever ANOTHER instance sharing the
        database commits events (needs_routing: new messages, freed capacity and the like), and
        once after each (re)connection. Never returns on a store only one process can use."""

    async def ping(self) -> None:
        """Round-trip to the database. Raises DatabaseUnavailable."""

    # ---- intake -------------------------------------------------------------------------
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

    # ---- routing ------------------------------------------------------------------------
    async def routing_snapshot(self) -> RoutingSnapshot:
        """Queued unassigned conversations on unpaused channels (most urgent, then longest
        waiting, first) with what routing needs of each (skill, team, language, declined_by, the
        contact's previous counselor), and every enabled counselor with her routing profile and
        current load (assigned + waiting), in total and per channel."""

    async def apply_assignments(self, assigns: Sequence[Assign], *, now: datetime) -> list[Assign]:
        """Apply each assignment only if the conversation is still queued and unassigned, the
        counselor is still available, and her load is still below `capacity` and, when given,
        her load on the channel below `channel_capacity` (checked in the database, so concurrent
        routers cannot exceed it). Each applied one is an offer (offered_at = now) with an
        event. Returns the ones that applied."""

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

    async def queue_depth(self) -> list[QueueDepth]:
        """Unassigned queued conversations by channel and priority (paused channels included)."""

    async def claim_auto_reply(
        self,
        conversation_id: ConversationId,
        kind: str,
        *,
        body: str,
        discreet_body: str,
        now: datetime,
    ) -> Message | None:
        """Queue an automatic reply of this kind unless the conversation already had one (ever,
        across restarts and instances) or is closed: the message (discreet_body when the contact
        asked for discretion) and its outbox row, in one transaction with an auto_reply_queued
        event. None when nothing was queued. Raises NotFound."""

    async def set_discretion(
        self, conversation_id: ConversationId, discretion: bool, *, actor_id: UserId, now: datetime
    ) -> None:
        """The consulter asked for (or no longer needs) discretion: her contact's automatic
        replies use the neutral texts. Raises NotFound."""

    async def contact_facts(
        self, identities: Sequence[tuple[ChannelKind, str]]
    ) -> dict[tuple[ChannelKind, str], ContactFacts]:
        """What is known of each sender (channel, identity hash) that wrote before; a sender
        missing from the answer is new (inbox.core.model.NEW_SENDER). For rules at intake."""

    async def contact_address(self, conversation_id: ConversationId) -> ContactAddress:
        """The raw address to reply to and the contact's privacy settings. Callers decide who
        may see it (inbox.privacy) and audit every reveal. Raises NotFound."""

    async def set_anonymity(
        self,
        conversation_id: ConversationId,
        mode: Anonymity | None,
        *,
        actor_id: UserId,
        now: datetime,
    ) -> None:
        """Set the contact's own anonymity mode (None: her channel's default), with an
        anonymity_set event. Raises NotFound."""

    async def due_rule_replies(self, *, since: datetime) -> list[LastArrival]:
        """The rules' reply templates asked for by messages of open conversations whose
        consulter last wrote at `since` or later (the intake records them as
        `auto_reply_due` events), one per such message: what a stopped process may have left
        unqueued. Templates already sent are among them: the claim skips those."""

    async def unreplied_arrivals(self, kind: str, *, since: datetime) -> list[LastArrival]:
        """Open conversations that never had an automatic reply of this kind and whose
        consulter last wrote at `since` or later: the replies a stopped process may have left
        unqueued (AutoReplier.recover decides which are due)."""

    async def recent_handling_s(self, *, limit: int = 50) -> float | None:
        """Mean seconds from assignment to close over the last `limit` closed conversations."""

    async def awaiting_answers(self, *, limit: int = 2000) -> list[AwaitingAnswer]:
        """Open conversations whose consulter waits for a person's answer, longest first."""

    async def apply_deadlines(
        self, changes: Sequence[DeadlineChange], *, urgent_priority: int, now: datetime
    ) -> list[DeadlineChange]:
        """Write the due times, and record each alarm at most once per wait (across instances):
        a warning (deadline_warning event), or a breach (deadline_breached event; the priority
        rises to `urgent_priority`, declined_by is cleared, and an unopened offer goes back to
        the queue). A reply clears both. Returns the alarms recorded by this call."""

    # ---- conversations and messages -----------------------------------------------------
    async def get_conversation(self, conversation_id: ConversationId) -> Conversation:
        """Raises NotFound."""

    async def list_conversations(
        self,
        *,
        statuses: Collection[ConversationStatus],
        visible_to: UserId | None = None,
        channels: Collection[ChannelKind] | None = None,
        limit: int = 200,
    ) -> list[Conversation]:
        """Most urgent, then oldest first. With `visible_to`, only the conversations assigned
        to that user plus the unassigned queued ones."""

    async def list_messages(
        self, conversation_id: ConversationId, *, include_notes: bool = True, limit: int = 500
    ) -> list[Message]:
        """Oldest first. Raises NotFound for an unknown conversation."""

    async def get_message(self, message_id: MessageId) -> Message:
        """One message of any conversation (its attachments listed, not their content).
        Raises NotFound."""

    async def attachment(self, message_id: MessageId, position: int) -> tuple[Attachment, bytes]:
        """The stored content of the message's attachment at `position` (its index in
        Message.attachments), with the attachment listed as stored. Raises NotFound for an
        unknown message or position, and for an attachment listed with stored=False (refused
        by its channel, e.g. over [mail].max_attachment_bytes)."""

    async def add_reply(
        self, conversation_id: ConversationId, *, author_id: UserId, body: str, now: datetime
    ) -> Message:
        """Store an outbound message and its outbox row (pending) in one transaction; the
        conversation becomes WAITING. Raises NotFound, or Conflict when it is closed."""

    async def add_note(
        self, conversation_id: ConversationId, *, author_id: UserId, body: str, now: datetime
    ) -> Message:
        """Store an internal note (never sent). Raises NotFound."""

    async def assign(
        self,
        conversation_id: ConversationId,
        user_id: UserId,
        *,
        actor_id: UserId,
        now: datetime,
        capacity: int | None,
    ) -> Conversation:
        """Give an open conversation to a counselor. With `capacity`, only while her load is
        below it; None overrides the check (a supervisor's decision). Raises NotFound, or
        Conflict when closed, the user is not an enabled counselor, or she is at capacity."""

    async def close(
        self, conversation_id: ConversationId, *, actor_id: UserId, now: datetime
    ) -> Conversation:
        """Close an open conversation. Raises NotFound, or Conflict when already closed."""

    async def consulter_history(
        self,
        channel: ChannelKind,
        identity_hash: str,
        *,
        limit: int = 200,
        before: MessageId | None = None,
    ) -> list[Message]:
        """The latest `limit` inbound and outbound messages (never notes) of this identity's
        latest conversation on the channel, oldest first; with `before`, only those with a
        smaller id (the page before it). Empty for an unknown identity."""

    # ---- outbox -------------------------------------------------------------------------
    async def claim_outbox(self, *, now: datetime, limit: int, lease_s: float) -> list[OutboxItem]:
        """Claim up to `limit` due pending sends for `lease_s` seconds (each claimed by one
        caller only, across processes); an unfinished claim becomes due again after the lease."""

    async def mark_sent(self, outbox_id: OutboxId, *, provider_id: str, now: datetime) -> None:
        """Record delivery to the channel; the message becomes SENT."""

    async def mark_retry(
        self, outbox_id: OutboxId, *, error: str, retry_at: datetime, now: datetime
    ) -> None:
        """Record a failed attempt; due again at `retry_at`."""

    async def mark_failed(self, outbox_id: OutboxId, *, error: str, now: datetime) -> None:
        """Give up; the message becomes FAILED and an event tells the counselor."""

    async def next_outbox_due(self) -> datetime | None:
        """When the earliest pending send (or expired claim) is due; None when none is."""

    async def mark_bounced(self, provider_ids: Sequence[str], *, now: datetime) -> list[MessageId]:
        """Replies reported undeliverable after they were sent (a bounce names the Message-ID).

        Matches outbox rows with status 'sent' whose provider_id equals one of `provider_ids`,
        both compared with surrounding angle brackets stripped (`<x>` and `x` alike). Each one,
        in ONE transaction: the outbox row becomes failed with last_error 'bounced', its message
        FAILED (external_id kept), and a reply_failed event (the kind mark_failed writes) with
        data {"error": "bounced", "reason": "bounced"}. Unknown ids, and rows not 'sent'
        (pending, failed, already bounced), are ignored, so a repeated bounce marks nothing.
        Returns the ids of the messages marked now, in id order."""

    # ---- mail channel state -------------------------------------------------------------
    async def mail_cursor(self, mailbox: str) -> MailCursor | None:
        """How far `mailbox` (the channel's key for it) has been read; None before its first
        save_mail_cursor."""

    async def save_mail_cursor(self, mailbox: str, cursor: MailCursor, *, now: datetime) -> None:
        """Record how far `mailbox` has been read (an upsert). With the stored UIDVALIDITY,
        last_uid only moves forward: a slow writer saving an older UID leaves the newer one
        (checked in the database, so also across instances). A different UIDVALIDITY replaces
        the stored cursor, last_uid included, since the old UIDs mean nothing any more."""

    async def mail_thread(self, conversation_id: ConversationId) -> MailThread | None:
        """The conversation's mail thread; None when none was saved (or no such conversation)."""

    async def save_mail_threads(
        self, threads: Sequence[tuple[ConversationId, MailThread]], *, now: datetime
    ) -> None:
        """Upsert each conversation's mail thread, all in ONE transaction, in the given order (a
        later entry for the same conversation wins). last_message_id and references (kept in
        their order) replace the stored ones; the stored subject stays when the new one is
        empty or blank. Raises NotFound, storing nothing, when a conversation does not exist."""

    # ---- users, sessions, tokens --------------------------------------------------------
    async def create_user(self, user: NewUser, *, now: datetime) -> User:
        """Raises DuplicateKey when the username is taken."""

    async def get_user(self, user_id: UserId) -> User:
        """Raises NotFound."""

    async def find_login(self, username: str) -> tuple[User, str] | None:
        """The user and her password hash, or None."""

    async def list_users(self) -> list[User]:
        """All users, by username."""

    async def set_user_disabled(self, username: str, disabled: bool, *, now: datetime) -> User:
        """Disabling ends her sessions (and her tokens' effect) and takes her open conversations
        back to the queue (a conversation_requeued event each), in one transaction. Raises
        NotFound."""

    async def set_password_hash(self, user_id: UserId, password_hash: str) -> None:
        """Replace the hash (argon2 rehash on login). Raises NotFound."""

    async def create_session(
        self, token_hash: str, user_id: UserId, *, now: datetime, expires_at: datetime
    ) -> None:
        """Store a browser session by the hash of its cookie value."""

    async def session_user(self, token_hash: str, *, now: datetime) -> User | None:
        """The enabled user of an unexpired session, else None."""

    async def delete_session(self, token_hash: str) -> None:
        """Sign out; unknown hashes are ignored."""

    async def create_api_token(
        self, token_hash: str, user_id: UserId, *, name: str, now: datetime
    ) -> None:
        """Store an API token by its hash."""

    async def token_user(self, token_hash: str) -> User | None:
        """The enabled user of an API token, else None."""

    # ---- events -------------------------------------------------------------------------
    async def list_events(self, *, after_id: int = 0, limit: int = 500) -> list[Event]:
        """Events with id > after_id, oldest first. On PostgreSQL a later call may still find
        smaller ids that committed late: a tail reads feed_events instead."""

    async def last_event_id(self) -> int:
        """The id of the newest event; 0 when the log is empty."""

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


__all__ = ["SCHEMA_VERSION", "KeyedInbound", "OutboxId", "Store"]
