"""Pure data of the inbox: ids, enums and frozen records shared by every layer (stdlib only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from functools import lru_cache
from typing import Any, NewType

ContactId = NewType("ContactId", int)
ConversationId = NewType("ConversationId", int)
MessageId = NewType("MessageId", int)
UserId = NewType("UserId", int)
EventId = NewType("EventId", int)
OutboxId = NewType("OutboxId", int)


class ChannelKind(StrEnum):
    WEBCHAT = "webchat"
    MAIL = "mail"
    SMS = "sms"
    LINE = "line"
    PHONE = "phone"


# Channels on which she can refuse every message: an SMS STOP, blocking the LINE account. Her
# identity's opted_out_at holds it; nothing is sent to her until she opts back in.
OPT_OUT_CHANNELS = frozenset({ChannelKind.SMS, ChannelKind.LINE})


class Role(StrEnum):
    COUNSELOR = "counselor"
    SUPERVISOR = "supervisor"
    PHONE_STAFF = "phone_staff"
    ADMIN = "admin"


class ConversationStatus(StrEnum):
    QUEUED = "queued"  # waiting for a counselor
    ASSIGNED = "assigned"  # a counselor owns it and the consulter waits for her
    WAITING = "waiting"  # the counselor answered; waiting for the consulter
    CLOSED = "closed"


# A counselor's limit of open conversations at once, in total or on one channel: the same bound
# for the CLI, the user API and the supervisors' counselor form.
MAX_CAPACITY = 50
OPEN_STATUSES = (ConversationStatus.QUEUED, ConversationStatus.ASSIGNED, ConversationStatus.WAITING)
# Conversations that occupy a counselor's capacity.
LOAD_STATUSES = (ConversationStatus.ASSIGNED, ConversationStatus.WAITING)


class Presence(StrEnum):
    """Set by the counselor herself; only `available` receives new conversations."""

    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


class Anonymity(StrEnum):
    """How much of a consulter's identity staff may see (per channel, overridable per contact)."""

    ANONYMOUS = "anonymous"  # never shown to anyone; the address is kept only to reply
    PSEUDONYMOUS = "pseudonymous"  # the alias; the address to allowed roles, with a reason
    IDENTIFIED = "identified"  # she gave her identity: the address is shown with the alias


# From the least private to the most; None (the channel's default) ranks below anonymous only:
# a contact's own identified or pseudonymous setting is about the address she gave on her
# channel, and must not loosen her other channels' defaults (storage: link_contacts).
_PRIVACY_RANK: dict[Anonymity | None, int] = {
    Anonymity.IDENTIFIED: 0,
    Anonymity.PSEUDONYMOUS: 1,
    None: 2,
    Anonymity.ANONYMOUS: 3,
}


def stricter_anonymity(a: Anonymity | None, b: Anonymity | None) -> Anonymity | None:
    """Two contacts' own settings as one, when a supervisor links them as one consulter: the more
    private of the two (anonymous if either is; her channels' defaults rather than an
    identified or pseudonymous wish the other had)."""
    return max(a, b, key=_PRIVACY_RANK.__getitem__)


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    NOTE = "note"  # internal note, never sent to the consulter


class DeliveryStatus(StrEnum):
    RECEIVED = "received"  # inbound, stored
    PENDING = "pending"  # outbound, in the outbox
    SENT = "sent"  # the channel accepted it
    DELIVERED = "delivered"  # the provider says it reached her phone (SMS status callbacks)
    FAILED = "failed"  # gave up after retries, or refused for good
    NONE = "none"  # internal notes


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A file that came with a message. On the way in (InboundMessage) `content` holds its bytes,
    or None when the channel refused it (over its size limit): the store keeps the bytes of the
    others. Read back from a store (Message), `content` is None and `stored` says whether
    Store.attachment can give the bytes. Never log `content`."""

    filename: str
    content_type: str
    size_bytes: int
    content: bytes | None = field(default=None, repr=False, compare=False)
    stored: bool = False  # read back from a store: its content can be downloaded


@dataclass(frozen=True, slots=True)
class ReplyToken:
    """A provider's token for answering one message for free (LINE: single use, about a
    minute). Stored by the intake with the message; the channel takes it to reply."""

    token: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundMessage:
    """A message as a channel adapter hands it to the intake: normalized, not yet stored."""

    channel: ChannelKind
    external_id: str  # the provider's id; (channel, external_id) is the idempotency key
    sender: str  # normalized address: lowercase e-mail, E.164 number, LINE id, web-chat session key
    body: str
    received_at: datetime  # aware UTC, never naive
    # The conversation this message answers, when the channel could verify it (mail: the keyed
    # token in our Message-ID that the reply quotes). It outranks the sender's address.
    conversation_hint: ConversationId | None = None
    attachments: tuple[Attachment, ...] = ()
    reply_token: ReplyToken | None = None  # kept with the message, in its transaction


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredInbound:
    """What the intake answers an adapter: the message is durably stored (or was already)."""

    message_id: MessageId
    conversation_id: ConversationId
    duplicate: bool
    # It joined the conversation its conversation_hint named, from another address than the
    # conversation's (mail: she, or someone, answered from elsewhere). The mail thread we
    # answer in must not then take its subject or Message-ID, which may name that address.
    other_address: bool = False
    # Routing at intake (storage.base.IntakeRouter): the counselor this batch gave the message's
    # new conversation to, in the same transaction; and whether its conversation is left
    # waiting for one (unassigned), which is when the router has work.
    assigned_to: UserId | None = None
    queued: bool = False
    # Queued again: her conversation waited on her, unassigned (its counselor gone), and is
    # back in the queue with the priority it had, which may be higher than her message's.
    requeued: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundMessage:
    """One reply for a channel to deliver. `recipient` is the raw address: never log it."""

    message_id: MessageId
    conversation_id: ConversationId
    channel: ChannelKind
    recipient: str
    body: str
    discreet: bool = False  # the contact asked for discretion: neutral sender name and subject
    automatic: bool = False  # an auto-reply, not a person's: marked Auto-Submitted in mail
    created_at: datetime | None = None  # when it was stored: the time her chat shows with it
    # Its outbox row: SMS puts it in the status callback URL, so a callback that beats
    # mark_sent still finds the row (None outside the outbox, e.g. in tests).
    outbox_id: OutboxId | None = None
    # The satisfaction survey's question (inbox.survey): the channel adds its answers (buttons,
    # a quick reply, a link); None for every other message.
    survey: SurveyAsk | None = None


@dataclass(frozen=True, slots=True)
class SurveyAsk:
    """A survey question on its way out: her language, and the token that stands for her
    conversation in a postback or a link (made when it is sent, never stored)."""

    language: str
    token: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class MailCursor:
    """How far a mailbox has been read: IMAP UIDs are only meaningful with their UIDVALIDITY."""

    uidvalidity: int
    last_uid: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MailThread:
    """What a reply needs to land in the consulter's mail thread: the subject she used and the
    ids of the thread's latest message (In-Reply-To) and its references."""

    subject: str
    last_message_id: str | None
    references: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxItem:
    outbox_id: OutboxId
    attempts: int
    message: OutboundMessage
    opted_out: bool = False  # the recipient's identity opted out (SMS STOP): never sent


@dataclass(frozen=True, slots=True, kw_only=True)
class Contact:
    id: ContactId
    alias: str  # the pseudonym counselors see, e.g. 相談者-4F2K
    created_at: datetime


# A conversation's place in the queue's order, most urgent then oldest first: (-priority,
# queued_at, id) (storage.desk queue_part).
QueueOrder = tuple[int, datetime, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class Conversation:
    id: ConversationId
    contact_id: ContactId
    contact_alias: str
    channel: ChannelKind
    status: ConversationStatus
    priority: int  # higher is more urgent; 0 is normal
    assignee_id: UserId | None
    tags: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    last_inbound_at: datetime | None
    first_response_due: datetime | None = None
    next_response_due: datetime | None = None
    skill: str | None = None  # set by routing rules at intake
    team: str | None = None
    offered_at: datetime | None = None  # the router offered it to the assignee then ...
    opened_at: datetime | None = None  # ... and she opened it then (None: not yet)
    closed_at: datetime | None = None
    outcome: str | None = None  # closed with: an id of the configured outcomes (inbox.outcomes)
    outcome_note: str | None = None  # the counselor's note on closing: case text, never logged
    # The latest outbound message the consulter's page showed her (web chat only; None: none yet)
    consulter_read_message_id: MessageId | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    id: MessageId
    conversation_id: ConversationId
    direction: Direction
    body: str
    author_id: UserId | None
    external_id: str | None
    created_at: datetime
    delivery_status: DeliveryStatus
    attachments: tuple[Attachment, ...] = ()
    # why a FAILED reply was not delivered (the outbox's short reason; never an address)
    failure_reason: str | None = None


TimeWindow = tuple[time, time]  # local start, end; end time(0) means midnight at the day's end


class ClosedDays(StrEnum):
    """What a counselor's weekly shift does on the desk's closed days (public holidays, the
    year-end closure, closed dates): off like the desk, or worked as on any other day."""

    FOLLOW = "follow"
    WORK = "work"


@dataclass(frozen=True, slots=True, kw_only=True)
class Shift:
    """A counselor's working time: a weekly schedule in a time zone plus dated exceptions
    (an empty tuple for a day off, other windows for a swapped shift). On the desk's closed
    days the weekly schedule is off unless `closed_days` is WORK; a dated exception still wins."""

    tz: str = "Asia/Tokyo"
    weekly: tuple[tuple[TimeWindow, ...], ...] = ((),) * 7  # Monday first
    exceptions: tuple[tuple[date, tuple[TimeWindow, ...]], ...] = ()
    closed_days: ClosedDays = ClosedDays.FOLLOW


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    id: UserId
    username: str
    display_name: str
    roles: frozenset[Role]
    skills: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset({"ja"})
    capacity: int = 3
    disabled: bool = False
    created_at: datetime | None = None
    presence: Presence = Presence.AVAILABLE
    teams: frozenset[str] = frozenset()
    channel_capacity: tuple[tuple[ChannelKind, int], ...] = ()  # below `capacity`, by channel
    shift: Shift | None = None  # None: no schedule, always on shift
    # An admin set or reset her password: her sessions can only set a new one until she does.
    must_change_password: bool = False

    def has_any(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)


@dataclass(frozen=True, slots=True, kw_only=True)
class CounselorUpdate:
    """A change to a counselor's routing profile; None leaves a field as it is."""

    presence: Presence | None = None
    capacity: int | None = None
    channel_capacity: tuple[tuple[ChannelKind, int], ...] | None = None
    skills: frozenset[str] | None = None
    languages: frozenset[str] | None = None
    teams: frozenset[str] | None = None
    shift: Shift | None = None
    clear_shift: bool = False  # shift=None cannot say "remove her schedule"; this does

    def changed(self) -> list[str]:
        names = [
            n
            for n in ("presence", "capacity", "channel_capacity", "skills", "languages", "teams")
            if getattr(self, n) is not None
        ]
        if self.shift is not None or self.clear_shift:
            names.append("shift")
        return names


@dataclass(frozen=True, slots=True, kw_only=True)
class IntakeLabels:
    """What routing rules and urgent triage decided for an inbound message; intake applies it to
    the conversation in the same transaction (priority only ever rises, tags only add)."""

    priority: int = 0
    skill: str | None = None
    team: str | None = None
    language: str | None = None
    tags: frozenset[str] = frozenset()
    # Why supervisors must look now (an urgent category, or the rule that asked), never the
    # text itself: stored as a supervisors_alerted event with the message.
    alert: str | None = None
    auto_replies: tuple[str, ...] = ()  # template names; sent after the commit, once each
    # An SMS that is a whole STOP (True) or START (False) keyword: the intake sets or clears
    # her identity's opt-out in the transaction that stores the message. None: neither.
    sms_opt: bool | None = None


NO_LABELS = IntakeLabels()


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactFacts:
    """What the store knows of a sender before her new message is stored: the contact
    attributes routing rules can match besides those read off the message itself."""

    returning: bool = False  # she had a conversation with us before, now closed
    discretion: bool = False
    anonymity: Anonymity | None = None  # her own setting; None: the channel's default


NEW_SENDER = ContactFacts()


@dataclass(frozen=True, slots=True, kw_only=True)
class NewUser:
    username: str
    display_name: str
    password_hash: str
    roles: frozenset[Role]
    skills: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset({"ja"})
    capacity: int = 3
    # A new account is offline until she says she is available: an offer must never go to
    # someone who has not signed in. Seeded test and benchmark staff may start available.
    presence: Presence = Presence.OFFLINE
    must_change_password: bool = False  # an admin chose the password: she sets her own first


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One line of the append-only log: who did what, when. Never bodies or addresses."""

    id: EventId
    at: datetime
    kind: str  # past tense: message_received, conversation_assigned, ...
    actor_id: UserId | None
    conversation_id: ConversationId | None
    message_id: MessageId | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactAddress:
    """A conversation's raw address and the contact's privacy settings. Never log `address`."""

    conversation_id: ConversationId
    channel: ChannelKind
    address: str
    anonymity: Anonymity | None  # the contact's own setting; None: the channel's default
    discretion: bool
    display_name: str | None = None  # her LINE name, fetched only where she is identified


_ALIAS_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
_ALIAS_SPACE = 32**5
_ALIAS_MULTIPLIER = 0x2C9277B5  # odd, so multiplication permutes 0 .. 32**5-1


@lru_cache(maxsize=1 << 16)  # every row of every queue page read names one: kept, not redone
def contact_alias(contact_id: int) -> str:
    """The pseudonym counselors see, e.g. 相談者-4F2KQ: unique per contact, not sequential.

    Derived from the id by a bijection on 32**5 values, so it needs no storage and cannot
    collide below 33 million contacts; beyond that it grows a character.
    """
    scrambled = (contact_id * _ALIAS_MULTIPLIER + 0x5A5A5) % _ALIAS_SPACE
    high = contact_id // _ALIAS_SPACE
    chars = []
    for _ in range(5):
        scrambled, digit = divmod(scrambled, 32)
        chars.append(_ALIAS_ALPHABET[digit])
    prefix = str(high) if high else ""
    return f"相談者-{prefix}{''.join(reversed(chars))}"


# --- desk: canned replies
@dataclass(frozen=True, slots=True, kw_only=True)
class CannedReplyDraft:
    """A canned reply's words in Japanese and English (either may be empty, not both) and its
    place in the list (lower first; None: last when made, unchanged when edited)."""

    title_ja: str = ""
    title_en: str = ""
    body_ja: str = ""
    body_en: str = ""
    position: int | None = None


CannedReplyId = NewType("CannedReplyId", int)


@dataclass(frozen=True, slots=True, kw_only=True)
class CannedReply:
    id: CannedReplyId
    draft: CannedReplyDraft
    updated_by: UserId | None  # None: seeded at first start
    updated_at: datetime
