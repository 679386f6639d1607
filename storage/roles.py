"""The Store's roles beside intake and routing (storage.base): each service takes only its own.

Each operation's contract; the area module named beside each role holds its one implementation
for both stores. Timestamps go in and come out as aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from inbox.core.activity import Activity, ActivityDraft
from inbox.core.agencies import (
    Agency,
    AgencyDraft,
    AgencyFilter,
    AgencyId,
    ImportResult,
    NewReferral,
    Referral,
    ReferralId,
)
from inbox.core.board import AlertAck, BoardRows
from inbox.core.context import ConversationSummary, SearchPage, SearchQuery
from inbox.core.decisions import (
    AwaitingAnswer,
    DeadlineChange,
    HandedToOnCall,
    LastArrival,
    UrgentArrival,
)
from inbox.core.follow_ups import FollowUp, NewFollowUp, ScheduledFollowUp
from inbox.core.line import ChannelEvent, FriendsDay
from inbox.core.model import (
    Anonymity,
    Attachment,
    CannedReply,
    CannedReplyDraft,
    CannedReplyId,
    ChannelKind,
    ContactAddress,
    ContactId,
    Conversation,
    ConversationId,
    ConversationStatus,
    MailCursor,
    MailThread,
    Message,
    MessageId,
    NewUser,
    OutboxId,
    OutboxItem,
    QueueOrder,
    Role,
    User,
    UserId,
)
from inbox.core.phone import (
    Call,
    CallbackRequest,
    CallbackRow,
    Caller,
    LoggedCall,
    NewCall,
    RetryRuleFn,
)
from inbox.core.report_facts import Facts, FactsQuery
from inbox.core.survey import SurveyAnswer
from inbox.core.voice import VoiceChange


class PolicyStore(Protocol):
    """Automatic replies, privacy and response deadlines (storage.policies)."""

    async def claim_auto_reply(
        self,
        conversation_id: ConversationId,
        kind: str,
        *,
        body: str,
        discreet_body: str,
        now: datetime,
        by_language: Sequence[tuple[str, str, str]] = (),
        supersedes: Sequence[str] = (),
    ) -> Message | None:
        """Queue an automatic reply of this kind unless the conversation already had one (ever,
        across restarts and instances) or is closed: the message (discreet_body when the contact
        asked for discretion) and its outbox row, in one transaction with an auto_reply_queued
        event. Where her language is known (set_consulter_language) and `by_language` has a
        (language, body, discreet_body) in it, that one goes instead. The kinds it `supersedes`
        are claimed in the same transaction without a message: they are never queued for this
        conversation afterwards (nor derived by unreplied_arrivals). None when nothing was
        queued. Raises NotFound."""

    async def set_consulter_language(
        self, channel: ChannelKind, identity_hash: str, language: str, *, now: datetime
    ) -> None:
        """Remember the language her chat is set to, by her address (her contact may not exist
        yet): her automatic replies go in it alone. Idempotent; the last one set counts."""

    async def set_discretion(
        self, conversation_id: ConversationId, discretion: bool, *, actor_id: UserId, now: datetime
    ) -> None:
        """The consulter asked for (or no longer needs) discretion: her contact's automatic
        replies use the neutral texts. Raises NotFound."""

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

    async def link_contacts(
        self,
        conversation_id: ConversationId,
        other_id: ConversationId,
        *,
        actor_id: UserId,
        reason: str,
        now: datetime,
    ) -> tuple[ContactId, ContactId]:
        """One consulter across channels, as a supervisor decided: the other conversation's
        contact (B) is merged into this one's (A) in one transaction. B's channel identities and
        conversations take A's id (her timeline and her alias become A's; her chat still shows
        only what came at its own address); A keeps the stricter privacy of the two (discretion
        if either had it, the more private anonymity: inbox.core.model.stricter_anonymity); B's
        row stays, with nothing left on it. A contacts_linked event holds the actor, both
        contact ids, the other conversation and the reason, never an address. Returns (A, B).
        Raises NotFound for either conversation, Conflict when both are A's already."""

    async def due_rule_replies(self, *, since: datetime) -> list[LastArrival]:
        """The rules' reply templates asked for by messages of open conversations whose
        consulter last wrote at `since` or later (the intake records them as
        `auto_reply_due` events), one per such message: what a stopped process may have left
        unqueued. Templates already sent are among them: the claim skips those."""

    async def unreplied_arrivals(self, kind: str, *, since: datetime) -> list[LastArrival]:
        """Open conversations that never had an automatic reply of this kind and whose
        consulter last wrote at `since` or later: the replies a stopped process may have left
        unqueued (AutoReplier.recover decides which are due). Each says its priority and
        whether it is `taken` (it has an assignee, or was handed to the person on call)."""

    async def unsent_on_call(self, kind: str, *, since: datetime) -> list[HandedToOnCall]:
        """Open conversations someone has, that the router handed to the person on call
        (Store.assign's on_call) at `since` or later, and that never had an automatic reply of
        this kind (the on-call message), in id order; each with the rules' routing language and
        her first alerted message (else her latest) to tell her language."""

    async def unsent_safety(self, kind: str, *, since: datetime) -> list[UrgentArrival]:
        """The alerted messages (supervisors_alerted events) of open conversations that never
        had an automatic reply of this kind, whose consulter last wrote at `since` or later,
        oldest alert first: the safety messages a stopped process may have left unqueued."""

    async def recent_handling_s(self, *, limit: int = 50) -> float | None:
        """Mean seconds from assignment to close over the last `limit` closed conversations."""

    async def awaiting_answers(self, *, after: int = 0, limit: int = 1000) -> list[AwaitingAnswer]:
        """Open conversations whose consulter waits for a person's answer: up to `limit` of
        those with an id above `after`, in id order (the next page starts after the last)."""

    async def awaiting_among(self, ids: Sequence[ConversationId]) -> list[AwaitingAnswer]:
        """Those of `ids` whose consulter waits for a person's answer (open ones), any order."""

    async def apply_deadlines(
        self, changes: Sequence[DeadlineChange], *, urgent_priority: int, now: datetime
    ) -> list[DeadlineChange]:
        """Write the due times, and record each alarm at most once per wait (across instances):
        a warning (deadline_warning event), or a breach (deadline_breached event; the priority
        rises to `urgent_priority`, declined_by is cleared, and an unopened offer goes back to
        the queue). A reply clears both. Returns the alarms recorded by this call."""


class DeskStore(Protocol):
    """The counselor's desk: conversations, messages, attachments (storage.desk)."""

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

    async def queue_part(
        self,
        *,
        statuses: Collection[ConversationStatus],
        assignee: UserId | None,
        limit: int = 200,
    ) -> tuple[list[tuple[QueueOrder, Conversation]], dict[ConversationId, FollowUp]]:
        """One part of a counselor's list (list_conversations with `visible_to`), each with its
        place in the queue's order: the unassigned queued ones (`assignee` None), or those
        assigned to `assignee`; open ones only, the first `limit` in the queue's order. With
        them, in the same read, the due follow-ups whose tasks they are (follow_up_tasks)."""

    async def list_messages(
        self, conversation_id: ConversationId, *, include_notes: bool = True, limit: int = 500
    ) -> list[Message]:
        """Oldest first, a FAILED reply with its failure_reason (the outbox's last error).
        Raises NotFound for an unknown conversation."""

    async def get_message(self, message_id: MessageId) -> Message:
        """One message of any conversation (its attachments listed, not their content).
        Raises NotFound."""

    async def attachment(self, message_id: MessageId, position: int) -> tuple[Attachment, bytes]:
        """The stored content of the message's attachment at `position` (its index in
        Message.attachments), with the attachment listed as stored. Raises NotFound for an
        unknown message or position, and for an attachment listed with stored=False (refused
        by its channel, e.g. over [mail].max_attachment_bytes)."""

    async def add_reply(
        self,
        conversation_id: ConversationId,
        *,
        author_id: UserId,
        body: str,
        now: datetime,
        seen_up_to: MessageId | None = None,
    ) -> Message:
        """Store an outbound message and its outbox row (pending) in one transaction; the
        conversation becomes WAITING. Raises NotFound, or Conflict when it is closed. With
        `seen_up_to` (the last message the composer saw), raises ReplyCollision, storing
        nothing, when another staff member's reply was stored after it."""

    async def mark_consulter_read(
        self, channel: ChannelKind, identity_hash: str, up_to: MessageId, *, now: datetime
    ) -> tuple[ConversationId, MessageId] | None:
        """Her page showed her messages up to `up_to`: her latest conversation on the channel
        records the latest outbound message up to it as read, with a consulter_read event,
        when that is later than what it had. The conversation and the message now read, or
        None when nothing changed (an id not hers, nothing new, no such consulter)."""

    async def add_note(
        self, conversation_id: ConversationId, *, author_id: UserId, body: str, now: datetime
    ) -> Message:
        """Store an internal note (never sent). Raises NotFound."""

    async def close(
        self,
        conversation_id: ConversationId,
        *,
        actor_id: UserId,
        now: datetime,
        outcome: str | None = None,
        note: str | None = None,
    ) -> Conversation:
        """Close an open conversation, keeping how it ended (an outcome id, checked by the
        caller against the configured list) and the counselor's note on it; the
        conversation_closed event carries the outcome and whether there is a note, never the
        note. Raises NotFound, or Conflict when already closed."""

    async def set_tags(
        self,
        conversation_id: ConversationId,
        tags: Sequence[str],
        *,
        keep: Collection[str] = (),
        named: Collection[str] = (),
        actor_id: UserId,
        now: datetime,
    ) -> Conversation:
        """Replace the conversation's tags (closed ones too) by those of `keep` it has, then
        `tags`, each once, in that order; a tags_set event with what was added and removed,
        none when nothing changed: tags of `named` (configured ids, triage's labels) by name,
        free tags only counted (free_added, free_removed), as they are staff-written text.
        Callers clean the tags (inbox.core.tags). Raises NotFound."""

    async def counselor_load(self, user_id: UserId) -> list[tuple[ChannelKind, int]]:
        """Her conversations that take capacity (assigned and waiting), counted by channel;
        channels with none are left out."""

    async def consulter_history(
        self,
        channel: ChannelKind,
        identity_hash: str,
        *,
        limit: int = 200,
        before: MessageId | None = None,
    ) -> list[Message]:
        """The latest `limit` inbound and outbound messages (never notes) of this identity's
        conversations on the channel, closed ones included, oldest first; with `before`, only
        those with a smaller id (the page before it). Empty for an unknown identity."""


class ContextStore(Protocol):
    """The counselor's context: a consulter's timeline and search (storage.context)."""

    async def consulter_timeline(
        self, contact_id: ContactId, *, before: ConversationId | None = None, limit: int = 50
    ) -> list[ConversationSummary]:
        """Her conversations on every channel, closed ones too, newest first; with `before`,
        only older ones (smaller ids). Empty for an unknown contact."""

    async def message_page(
        self,
        conversation_id: ConversationId,
        *,
        before: MessageId | None = None,
        limit: int = 50,
        include_notes: bool = True,
    ) -> list[Message]:
        """The latest `limit` messages of a conversation (with `before`, those older than it),
        oldest first. Raises NotFound for an unknown conversation."""

    async def index_text(self, *, limit: int = 500) -> int:
        """Add up to `limit` messages not yet in the text-search index, oldest first; how many
        it added (0: the index is complete, as always on PostgreSQL, whose index is kept by the
        database). Search is right either way; it is fastest when this keeps up."""

    async def authored_in(self, conversation_id: ConversationId, user_id: UserId) -> bool:
        """Whether the user wrote a reply or a note in the conversation."""

    async def search(self, query: SearchQuery) -> SearchPage:
        """Conversations matching every filter of `query`, newest first, a page at a time
        (inbox.core.context.SearchPage says the order and the cursor). A text matches any
        substring of a message, Japanese without word spacing too; under three characters
        only within the latest `query.recent_messages` messages (scope "recent")."""


class CannedReplyStore(Protocol):
    """The program's canned replies (storage.canned)."""

    async def list_canned_replies(self) -> list[CannedReply]:
        """Every one, by position, then id."""

    async def get_canned_reply(self, reply_id: CannedReplyId) -> CannedReply:
        """Raises NotFound."""

    async def create_canned_reply(
        self, draft: CannedReplyDraft, *, actor_id: UserId, now: datetime
    ) -> CannedReply:
        """Store a new one (a position of None puts it last), with a canned_reply_created
        event. Callers check the draft."""

    async def update_canned_reply(
        self, reply_id: CannedReplyId, draft: CannedReplyDraft, *, actor_id: UserId, now: datetime
    ) -> CannedReply:
        """Replace its words (and its position, unless None), noting who edited it, with a
        canned_reply_updated event. Raises NotFound."""

    async def delete_canned_reply(
        self, reply_id: CannedReplyId, *, actor_id: UserId, now: datetime
    ) -> None:
        """With a canned_reply_deleted event. Raises NotFound."""


class OutboxStore(Protocol):
    """Replies waiting to be sent, claimed across instances (storage.outbox)."""

    async def claim_outbox(self, *, now: datetime, limit: int, lease_s: float) -> list[OutboxItem]:
        """Claim up to `limit` due pending sends for `lease_s` seconds (each claimed by one
        caller only, across processes); an unfinished claim becomes due again after the lease."""

    async def mark_sent(
        self,
        outbox_id: OutboxId,
        *,
        provider_id: str,
        now: datetime,
        channel: ChannelKind | None = None,
        survey: bool = False,
    ) -> None:
        """Record delivery to the channel; the message becomes SENT (DELIVERED if the status
        callback said so first). A failure a status callback recorded first stays FAILED with
        its reason, and the provider status is never lowered. The reply_sent event names the
        `channel` and whether it was the `survey`'s question: another instance's feed pushes a
        web chat reply to her socket there (inbox.web.chat_news)."""

    async def mark_retry(
        self, outbox_id: OutboxId, *, error: str, retry_at: datetime, now: datetime
    ) -> None:
        """Record a failed attempt; due again at `retry_at`."""

    async def mark_failed(
        self, outbox_id: OutboxId, *, error: str, now: datetime, opted_out: bool = False
    ) -> None:
        """Give up; the message becomes FAILED and an event tells the counselor. `opted_out`:
        the provider said she refuses every message; her SMS identity records it (once)."""

    async def next_outbox_due(self) -> datetime | None:
        """When the earliest pending send (or expired claim) is due; None when none is."""

    async def recipient_opted_out(self, conversation_id: ConversationId) -> bool:
        """Whether the conversation's identity has opted out (SMS STOP), so that no reply to it
        is sent. Raises NotFound for an unknown conversation."""

    async def mark_bounced(self, provider_ids: Sequence[str], *, now: datetime) -> list[MessageId]:
        """Replies reported undeliverable after they were sent (a bounce names the Message-ID).

        Matches outbox rows with status 'sent' whose provider_id equals one of `provider_ids`,
        both compared with surrounding angle brackets stripped (`<x>` and `x` alike). Each one,
        in ONE transaction: the outbox row becomes failed with last_error 'bounced', its message
        FAILED (external_id kept), and a reply_failed event (the kind mark_failed writes) with
        data {"error": "bounced", "reason": "bounced"}. Unknown ids, and rows not 'sent'
        (pending, failed, already bounced), are ignored, so a repeated bounce marks nothing.
        Returns the ids of the messages marked now, in id order."""


class LineStore(Protocol):
    """The LINE channel's state: reply tokens and the events that are not messages
    (storage.line)."""

    async def keep_reply_token(
        self, channel: ChannelKind, identity_hash: str, token: str, *, expires_at: datetime
    ) -> None:
        """Keep her latest reply token until `expires_at` (a later-expiring one replaces it; an
        earlier-expiring one, say a redelivered event's, does not)."""

    async def take_reply_token(
        self, channel: ChannelKind, identity_hash: str, *, now: datetime
    ) -> str | None:
        """Her reply token if one is kept and still valid at `now`, removed as it is given:
        single use, even with two senders asking at once. None otherwise."""

    async def keep_channel_events(
        self, channel: ChannelKind, events: Sequence[ChannelEvent]
    ) -> list[bool]:
        """Store and apply each event, in one transaction, unless stored before (by its
        event_id): an unfollow blocks her identity (as set_opt_out does, line_blocked event), a
        follow unblocks it, a postback is a line_postback event with its data; events go on her
        latest conversation when she has one. A follow or unfollow older than one already kept
        for her (LINE redelivered it late) is kept and counted but not applied: the later one
        stands. Answers, in order, whether each was new."""

    async def has_display_name(self, channel: ChannelKind, identity_hash: str) -> bool:
        """Whether her identity has a display name (False for an unknown one)."""

    async def set_display_name(self, channel: ChannelKind, identity_hash: str, name: str) -> None:
        """Keep the name she shows on `channel` (LINE; only where she is identified)."""

    async def friends_by_day(
        self, channel: ChannelKind, start: datetime, end: datetime, tz: ZoneInfo
    ) -> list[FriendsDay]:
        """Follows (friends added) and unfollows (lost) in [start, end), per day in `tz`."""


class SmsStore(Protocol):
    """The SMS channel's state: opted-out numbers and Twilio's delivery reports (storage.sms)."""

    async def set_opt_out(
        self,
        identity_hash: str,
        opted_out: bool,
        *,
        now: datetime,
        conversation_id: ConversationId | None,
        channel: ChannelKind = ChannelKind.SMS,
    ) -> bool:
        """Record that the SMS sender with this keyed hash sent STOP (`opted_out`) or START, or
        that the LINE user blocked the account (unfollow) or added it again (follow):
        channel_identities.opted_out_at becomes `now` or NULL, with an sms_opted_out /
        sms_opted_in (line_blocked / line_unblocked) event on `conversation_id` (the
        conversation her message went to, or her latest; none when None; the event holds no
        address). Only a change is written: False, and no event, when she already was in that
        state or has no identity on `channel`."""

    async def is_opted_out(
        self, identity_hash: str, channel: ChannelKind = ChannelKind.SMS
    ) -> bool:
        """Whether the sender with this keyed hash opted out on `channel` (False for an unknown
        one)."""

    async def record_provider_status(
        self,
        provider_id: str,
        status: str,
        error_code: int | None,
        *,
        now: datetime,
        outbox_id: OutboxId | None = None,
    ) -> bool:
        """Twilio's status callback for the reply sent as `provider_id` (its MessageSid).

        With `outbox_id` (our status callback URL carries it) the row is found by that id, even
        before mark_sent recorded the SID, and `provider_id` is kept as its SID if it has none;
        without it (older URLs), by `provider_id`.

        `status` is one of inbox.core.sms.PROVIDER_STATUS_RANK (ValueError otherwise). In ONE
        conditional statement, outbox.provider_status and provider_error change only when the
        new status ranks above the stored one (queued/accepted/sending < sent < delivered,
        undelivered, failed; a final one is never replaced), so callbacks arriving out of order
        or at once leave the latest state. undelivered/failed also fail the outbox row and its
        message (FAILED) with a reply_failed event {"error": "twilio <code>: <reason>"};
        delivered makes the message DELIVERED with a reply_delivered event. Returns whether
        anything changed: False for an unknown provider_id or an older status."""


class MailState(Protocol):
    """Where the mail channel stands: mailbox cursors and threads (storage.mail_state)."""

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


class PresenceStore(Protocol):
    """Whether staff are connected, and presence that follows (storage.presence)."""

    async def staff_connected(self, user_id: UserId, *, now: datetime, until: datetime) -> bool:
        """Her staff socket opened: her connection lease holds until `until`. If she was set away
        by a disconnect (away_disconnected), she is available again: True, with a
        counselor_updated event (reason "reconnected"); a presence she set herself stays."""

    async def staff_seen(self, user_ids: Sequence[UserId], *, until: datetime) -> None:
        """Extend these staff members' connection leases to `until`; no event."""

    async def away_disconnected(self, *, now: datetime) -> list[UserId]:
        """Every enabled, available counselor whose lease ran out before `now` becomes away,
        marked as set by the disconnect, with a counselor_updated event each (reason
        "disconnected"). One who never had a lease is left alone. Returns them, by id."""


class AccountStore(Protocol):
    """Staff accounts, sign-in sessions and API tokens (storage.accounts)."""

    async def create_user(self, user: NewUser, *, now: datetime) -> User:
        """Raises DuplicateKey when the username is taken."""

    async def get_user(self, user_id: UserId) -> User:
        """Raises NotFound."""

    async def find_login(self, username: str) -> tuple[User, str] | None:
        """The user and her password hash, or None."""

    async def list_users(self) -> list[User]:
        """All users, by username."""

    async def display_names(self) -> dict[UserId, str]:
        """Every user's display name by id: what the queue's rows name people by, without
        the rest of each account (roles, shift, capacities), which costs more to read."""

    async def set_user_disabled(
        self, username: str, disabled: bool, *, now: datetime, actor_id: UserId | None = None
    ) -> User:
        """Disabling ends her sessions (and her tokens' effect) and takes her open conversations
        back to the queue (a conversation_requeued event each), in one transaction; the
        user_disabled or user_enabled event names `actor_id` (None: the CLI). Raises NotFound,
        or LastAdmin when an admin (an actor) would disable the only enabled admin."""

    async def update_account(
        self,
        username: str,
        *,
        display_name: str | None,
        roles: frozenset[Role] | None,
        actor_id: UserId | None,
        now: datetime,
    ) -> User:
        """Set her display name and/or roles (None leaves one as it is), with a user_updated
        event naming the fields that changed. Losing the counselor role takes her open
        conversations back to the queue, as disabling does. Raises NotFound, or LastAdmin when
        an admin (an actor) would take the admin role from the only enabled admin."""

    async def reset_password(
        self, username: str, password_hash: str, *, actor_id: UserId | None, now: datetime
    ) -> User:
        """An admin's reset: the new hash, must_change_password set, every session and API
        token of hers ended, a password_reset event (never the password or its hash). Raises
        NotFound."""

    async def change_password(
        self, user_id: UserId, password_hash: str, *, keep_session: str | None, now: datetime
    ) -> User:
        """She set her own password: the new hash, must_change_password cleared, her other
        sessions ended (the one whose token hash is `keep_session` stays), her API tokens kept,
        a password_changed event naming the kept session by its tag (kept_session,
        inbox.core.sessions). Raises NotFound."""

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


class BoardStore(Protocol):
    """The supervisor's board (storage.board)."""

    async def board_rows(
        self,
        *,
        day_start: datetime,
        now: datetime,
        waiting: int = 200,
        assigned: int = 5000,
        alerts: int = 50,
        acknowledged: int = 20,
    ) -> BoardRows:
        """In one consistent read (a snapshot): every enabled counselor with her routing
        profile and her load (in total and per channel, counted as the router counts it),
        every staff member's display name, the queue depth by channel and priority, up to
        `waiting` queued unassigned conversations (most urgent, then longest waiting, first),
        up to `assigned` open ones with a counselor (by counselor), the paused channels with
        since when and who paused them, the newest `alerts` open alert events
        (inbox.core.board.ALERT_KINDS) however old and the `acknowledged` most recently
        acknowledged ones with their acknowledgement (newest alert first), each counselor's
        connection lease, the waits of the conversations created since `day_start` (see
        BoardRows.waits_today_s), and the newest event id."""

    async def acknowledge_alert(
        self, event_id: int, *, actor_id: UserId, now: datetime
    ) -> AlertAck:
        """Acknowledge an alert event: an alert_acknowledged event (data: event_id, kind).
        Idempotent: an alert acknowledged before returns that first acknowledgement and writes
        nothing. Raises NotFound when the event does not exist or is no alert."""


class CallStore(Protocol):
    """The phone desk: calls and callbacks (storage.calls, storage.callbacks). No number is
    stored in a call or an event; her number is her phone identity's address."""

    async def log_call(self, entry: NewCall, *, now: datetime, retry: RetryRuleFn) -> LoggedCall:
        """Store a call and what it did, in one transaction with its events (call_logged, never
        the number or the note). On an open phone conversation (entry.conversation_id, else her
        number's open one) a try (a call out, or one that reached her) works the callback:
        `retry` gets its tries (the calls out, and this one) and her contact's call window, and
        the conversation goes back to the queue due then (callback_retry_scheduled) or closes
        (callback_closed and conversation_closed: outcome the reaching one or "callback_" +
        reason; an unassigned one is then the logger's); an unanswered call of hers only
        joins it. Her number without an open one
        makes a phone conversation: closed at once (assigned to the logger, the call's outcome),
        or a queued callback when entry.callback asks (callback_requested). A withheld number:
        the calls row alone. Raises NotFound, Conflict (not a phone conversation, closed, or a
        number that is not the callback's)."""

    async def request_callback(
        self,
        conversation_id: ConversationId,
        caller: Caller,
        *,
        window_json: str | None,
        note: str,
        actor_id: UserId,
        now: datetime,
    ) -> CallbackRequest:
        """A callback asked for from any conversation: her number becomes a phone identity of
        that conversation's contact (a number known as another contact's raises
        NumberOfOtherConsulter before any write: never merged), the window is stored on her
        contact (None keeps the stored one), and a queued phone conversation is opened unless
        one is open (then it is returned). A note becomes an internal note on it. Event
        callback_requested (and note_added). Raises NotFound."""

    async def recent_calls(self, staff_id: UserId | None, *, limit: int = 50) -> list[Call]:
        """Calls logged by the staff member (everyone's with None), newest started first."""

    async def calls_of(self, conversation_id: ConversationId) -> list[Call]:
        """The conversation's calls, oldest started first; empty for an unknown one."""

    async def calls_in(self, conversation_ids: Sequence[ConversationId]) -> list[Call]:
        """The calls of these conversations, oldest started first."""

    async def open_callbacks(
        self, user_id: UserId | None, *, limit: int = 500
    ) -> list[CallbackRow]:
        """Open phone conversations: the queue's and those assigned to `user_id` (all with
        None), longest queued first."""


class VoiceStore(Protocol):
    """Twilio Voice's calls (storage.voice): calls rows filled in by its webhooks, and the
    desk's calls out. No number in a call or an event."""

    async def call_arrived(
        self, call_sid: str, status: str, caller: Caller | None, *, now: datetime
    ) -> VoiceChange:
        """Her call came in: an inbound calls row (her phone identity's contact, her open phone
        conversation if any; withheld with `caller` None), event call_started. Idempotent on
        the CallSid: a redelivery returns the stored call, changed False, and writes nothing."""

    async def advance_call(
        self,
        call_sid: str,
        status: str,
        duration_s: int | None,
        caller: Caller | None,
        *,
        now: datetime,
        call_id: int | None = None,
    ) -> VoiceChange | None:
        """A status callback or dial result (inbox.core.voice.CALL_STATUS_RANK): the row takes
        it only when it ranks above the stored state (a late end's duration is still kept);
        event call_updated. `call_id`: the desk's call out named by id (its URL), matched even
        before call_placed stored the sid (which it then stores); another sid's is None. An
        inbound call's end with no dial result counts as missed (callback made); the dial
        result still overrides it, and ANSWERED then withdraws that callback when nothing else
        happened on it (closed, outcome and event callback_withdrawn). When
        the call ends (call_logged, once): an inbound one with `caller` (its contact's number)
        joins her open phone conversation, or one is made: queued when missed (callback,
        callback_requested by missed_call), closed when answered. None for an unknown sid."""

    async def start_call(
        self, conversation_id: ConversationId, staff_id: UserId, *, now: datetime
    ) -> Call:
        """A call out from the desk on this phone conversation: an outbound row, status
        queued, event call_started. Raises NotFound, Conflict (not a phone conversation)."""

    async def call_placed(self, call_id: int, call_sid: str | None, *, now: datetime) -> Call:
        """Twilio's CallSid for the call out (call_updated), or None: it refused or did not
        answer in time, the call failed (call_logged). The same sid a status callback stored
        first is fine; Raises Conflict when it has another sid already."""

    async def bridge_call(self, call_id: int, call_sid: str, *, now: datetime) -> Call | None:
        """The bridge's <Dial> to her may be served once: the call out with this CallSid, not
        ended nor bridged before; it becomes `bridged` (call_updated). None when refused."""

    async def log_outcome(
        self, call_id: int, entry: NewCall, *, now: datetime, retry: RetryRuleFn
    ) -> LoggedCall:
        """Staff's outcome, note, referrals and follow-up on a stored call (entry's fields; the
        call's staff if it had none), event call_outcome_logged; on her open callback a call
        out, or her call that reached her, works it as log_call does. Raises NotFound,
        Conflict (it has an outcome already)."""

    async def get_call(self, call_id: int) -> Call:
        """Raises NotFound."""

    async def open_calls(self, staff_id: UserId | None, *, limit: int = 50) -> list[Call]:
        """Calls over that wait for staff's outcome, newest started first: her calls in that
        the desk answered, and the desk's calls out that ended (a missed or withheld call in is
        not one: its callback is the work). Those of `staff_id` and nobody's (all with None)."""

    async def call_window_of(self, conversation_id: ConversationId) -> str | None:
        """The conversation's contact's call window (JSON text; None: the desk's hours).
        Raises NotFound."""


class ReportStore(Protocol):
    """The grant report's facts and the retention rule for bodies (storage.report,
    storage.retention)."""

    async def report_facts(self, query: FactsQuery) -> Facts:
        """Every count of the report for the period, by (key, Tokyo month), in one consistent
        read, counted and grouped in SQL (inbox.core.report_facts: the keys and the rules).
        Never reads a body: the same before and after purge_bodies."""

    async def purge_bodies(
        self,
        *,
        before: datetime,
        now: datetime,
        batch: int = 5000,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Empty the body (and drop the attachments) of every message written before `before`
        in a conversation closed before it, setting purged_at = now; `batch` messages to a
        transaction, each with a bodies_purged event, `progress` told the running total after
        each. Answers how many were purged (0 when none was left)."""


class FollowUpStore(Protocol):
    """Follow-ups (近況確認) a counselor sets on a consulter (storage.follow_ups). Events carry
    ids and the day, never the note."""

    async def set_follow_up(self, new: NewFollowUp, *, actor_id: UserId, now: datetime) -> FollowUp:
        """A follow-up on the consulter of new.from_conversation_id, written to on that
        conversation's identity or on new.identity_id (one of her contact's, else
        ValidationError on field "identity"), offered first to new.counselor_id (else the
        actor). Event follow_up_set. Raises NotFound."""

    async def get_follow_up(self, follow_up_id: int) -> FollowUp:
        """Raises NotFound."""

    async def follow_ups_of(self, contact_id: ContactId, *, limit: int = 100) -> list[FollowUp]:
        """Her follow-ups, latest day first."""

    async def cancel_follow_up(
        self, follow_up_id: int, *, actor_id: UserId, now: datetime
    ) -> FollowUp:
        """A scheduled one becomes cancelled (follow_up_cancelled). Raises NotFound, Conflict
        (it is due or over already)."""

    async def resolve_follow_up(
        self, follow_up_id: int, outcome: str, *, actor_id: UserId, now: datetime
    ) -> FollowUp:
        """A scheduled or due one is over with an outcome (inbox.core.casework.
        FOLLOW_UP_OUTCOMES, else ValidationError on "outcome"), resolved_at/by set
        (follow_up_resolved). Raises NotFound, Conflict (over already)."""

    async def scheduled_follow_ups(
        self, *, through: date, limit: int = 500, after: tuple[date, int] | None = None
    ) -> list[ScheduledFollowUp]:
        """Scheduled follow-ups due on or before `through`, the oldest day first (then by id);
        `after`: the (day, id) of the previous page's last, for the next page."""

    async def make_follow_up_due(self, follow_up_id: int, *, now: datetime) -> FollowUp | None:
        """scheduled -> due, conditionally: its task is her identity's open conversation
        (marked as it is) or a new queued one (queued at `now`); event follow_up_due. None
        when it is not scheduled any more (made due elsewhere first, or cancelled)."""

    async def follow_up_tasks(
        self, conversation_ids: Sequence[ConversationId]
    ) -> dict[ConversationId, FollowUp]:
        """The due follow-ups whose task is one of these conversations."""

    async def follow_ups_due(self) -> int:
        """How many follow-ups are due (in the queue, not resolved) now."""

    async def identities_of(self, contact_id: ContactId) -> list[tuple[int, ChannelKind]]:
        """Her channel identities as (id, channel), oldest first: where a follow-up may be
        written to (never the address)."""


class SurveyStore(Protocol):
    """The satisfaction survey (storage.surveys): asked once per conversation, answered once,
    the answer only counted (by day, channel and answer), with nothing that leads back to her."""

    async def ask_survey(
        self,
        conversation_id: ConversationId,
        *,
        bodies: Mapping[str, str],
        token_hash: str | None,
        now: datetime,
        when_discreet: bool = False,
        expired_before: datetime | None = None,
    ) -> Message | None:
        """Record the survey of a closed conversation and queue its question (the body in her
        language where known, else Japanese: `bodies` by language, "ja" required) through the
        outbox, with a survey_sent event. None, and nothing written, when it is not closed, was
        asked before, she opted out or blocked, or asked for discretion (unless
        `when_discreet`). Open surveys asked before `expired_before` are deleted first (no
        channel takes their answer any more)."""

    async def answer_survey(self, answer: SurveyAnswer) -> bool:
        """Her answer, found by conversation or token: counted once (True), else nothing is
        written (False: unknown, answered, expired, another channel's)."""

    async def answer_open_survey(
        self,
        channel: ChannelKind,
        identity_hash: str,
        answer: int,
        *,
        on_day: date,
        asked_since: datetime,
        latest_closed: bool,
        event_id: str | None = None,
    ) -> bool:
        """Answer her latest open survey on this identity (asked since `asked_since`; with
        `latest_closed`, only while its conversation is her latest and still closed). With
        `event_id` (an SMS's MessageSid) the provider's message is kept as taken, without her
        identity or the answer: True also for a redelivery of a message that answered, which
        changes nothing."""

    async def open_survey_message(
        self,
        channel: ChannelKind,
        identity_hash: str,
        *,
        asked_since: datetime,
        latest_closed: bool = False,
    ) -> MessageId | None:
        """The question's message of her latest open survey on this identity, if any."""

    async def survey_token_open(
        self, token_hash: str, channel: ChannelKind, *, asked_since: datetime
    ) -> bool:
        """Whether a link's token still opens an unanswered survey asked since then."""

    async def survey_state(self, conversation_id: ConversationId) -> bool | None:
        """None: not asked; else whether it is no longer open (answered, or expired and
        deleted; never what she answered)."""

    async def survey_counts(self, first_day: date, last_day: date) -> dict[int, int]:
        """How many gave each answer (1..4, zeros included) on these days, both included."""


class AgencyStore(Protocol):
    """The directory of partner agencies (storage.agencies). Each change writes its event with
    ids and kinds only. Callers check the drafts (inbox.commands.agencies)."""

    async def list_agencies(self, which: AgencyFilter | None = None) -> list[Agency]:
        """The agencies `which` selects (None: the active ones), by kind, area, name."""

    async def get_agency(self, agency_id: AgencyId) -> Agency:
        """Raises NotFound."""

    async def create_agency(self, draft: AgencyDraft, *, actor_id: UserId, now: datetime) -> Agency:
        """A new agency, event agency_created. Raises DuplicateKey (key "name") when one of the
        same name and area exists, archived or not."""

    async def update_agency(
        self, agency_id: AgencyId, draft: AgencyDraft, *, actor_id: UserId, now: datetime
    ) -> Agency:
        """Replace its fields, event agency_updated. Raises NotFound, DuplicateKey (another
        agency has that name and area)."""

    async def set_agency_archived(
        self, agency_id: AgencyId, archived: bool, *, actor_id: UserId, now: datetime
    ) -> Agency:
        """Archive it (no new referral may name it; those made stay) or restore it, event
        agency_archived / agency_restored; already so: unchanged, no event. Raises NotFound."""

    async def preview_agency_import(
        self, drafts: Sequence[tuple[int, AgencyDraft]]
    ) -> ImportResult:
        """What importing the (line, draft) rows would do, writing nothing (applied False)."""

    async def import_agencies(
        self, drafts: Sequence[tuple[int, AgencyDraft]], *, actor_id: UserId, now: datetime
    ) -> ImportResult:
        """Upsert each row on (name, area) in ONE transaction: a new one is added, one that
        differs is updated (an archived one stays archived), event agencies_imported (the ids
        added and updated). The drafts' keys must be distinct. All or nothing: raises
        DuplicateKey (key "body") when another writer added one of the keys meanwhile."""


class ReferralStore(Protocol):
    """Referrals to partner agencies on conversations and calls (storage.referrals)."""

    async def record_referral(self, new: NewReferral, *, now: datetime) -> Referral:
        """Record it on its conversation, or on its call (and then on the call's conversation,
        if any); contact_id is theirs. Event referral_recorded (ids, kind, day; never the note).
        Raises NotFound (conversation, call or agency), Conflict (the agency is archived)."""

    async def referrals_of(
        self, *, conversation_id: ConversationId | None = None, call_id: int | None = None
    ) -> list[Referral]:
        """The referrals on a conversation (its calls' too) or on a call, by day then id;
        empty for an unknown one."""

    async def get_referral(self, referral_id: ReferralId) -> Referral:
        """Raises NotFound."""

    async def delete_referral(
        self, referral_id: ReferralId, *, actor_id: UserId, now: datetime
    ) -> Referral:
        """Delete one recorded by mistake, event referral_deleted; returns what it was. Callers
        decide who may. Raises NotFound."""


class ProfileStore(Protocol):
    """Casework: a consultation's topics and her age group (storage.profile). Ids only, checked
    before (inbox.core.casework); each change writes its event, a change to nothing writes none."""

    async def set_conversation_topics(
        self,
        conversation_id: ConversationId,
        topics: Collection[str],
        *,
        actor_id: UserId,
        now: datetime,
    ) -> tuple[str, ...]:
        """Replace the conversation's topics (any status: never needed to close, often set
        after); the set, sorted. Event topics_set (topics, added, removed). Raises NotFound."""

    async def set_call_topics(
        self, call_id: int, topics: Collection[str], *, actor_id: UserId, now: datetime
    ) -> tuple[str, ...]:
        """Replace a call's topics; the set, sorted. Event topics_set (call_id, topics, added,
        removed; the call's conversation if it has one). Raises NotFound."""

    async def conversation_topics(self, conversation_id: ConversationId) -> tuple[str, ...]:
        """Its topics, sorted; empty for none or an unknown conversation."""

    async def call_topics(self, call_id: int) -> tuple[str, ...]:
        """The call's topics, sorted; empty for none or an unknown call."""

    async def set_age_group(
        self,
        contact_id: ContactId,
        age_group: str | None,
        *,
        actor_id: UserId,
        now: datetime,
        conversation_id: ConversationId | None = None,
    ) -> str | None:
        """Her age group (an inbox.core.casework.AGE_GROUPS id; "unknown" or None clears it);
        the one stored (None: unknown). Event age_group_set (age_group, before; on the
        conversation it was set from). Raises NotFound."""

    async def age_group_of(self, contact_id: ContactId) -> str | None:
        """Her age group, None when not told. Raises NotFound."""


class ActivityStore(Protocol):
    """Work outside conversations (storage.activities). Events activity_logged, _updated,
    _deleted hold the kind, day and counts, never the note or the place."""

    async def add_activity(
        self, draft: ActivityDraft, *, staff_id: UserId, now: datetime
    ) -> Activity:
        """Store one, logged by `staff_id`."""

    async def update_activity(
        self,
        activity_id: int,
        draft: ActivityDraft,
        *,
        actor_id: UserId,
        owner: UserId | None,
        now: datetime,
    ) -> Activity:
        """Replace its fields. `owner`: only if she logged it (None: anyone's, a supervisor).
        Raises NotFound, PermissionDenied (another's)."""

    async def delete_activity(
        self, activity_id: int, *, actor_id: UserId, owner: UserId | None, now: datetime
    ) -> None:
        """Remove it, as update_activity decides whose. Raises NotFound, PermissionDenied."""

    async def get_activity(self, activity_id: int) -> Activity:
        """Raises NotFound."""

    async def activities_between(
        self, first: date, last: date, *, limit: int = 5000
    ) -> list[Activity]:
        """Those on days from `first` to `last` (both included), newest day first."""

    async def activity_totals(self, first: date, last: date) -> dict[str, tuple[int, int, int]]:
        """By kind, over every activity on those days: (how many, people, new people)."""
