"""What the router and the workers decide over, and what they decide: a counselor and a waiting
conversation as routing sees them, the deadline watcher's and the auto-replier's views, and the
decisions (pure data, stdlib only; the records they come from are in inbox.core.model)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from inbox.core.model import ChannelKind, ConversationId, Presence, Shift, UserId


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentLoad:
    """A counselor as the router sees her."""

    user_id: UserId
    capacity: int  # open conversations at once, all channels together
    load: int
    presence: Presence = Presence.AVAILABLE
    shift: Shift | None = None  # None: no schedule, always on shift
    skills: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset({"ja"})
    teams: frozenset[str] = frozenset()
    # Per-channel limits below the total, e.g. 3 chats but 1 phone callback; absent = no limit.
    channel_capacity: tuple[tuple[ChannelKind, int], ...] = ()
    channel_load: tuple[tuple[ChannelKind, int], ...] = ()
    idle_since: datetime | None = None  # her last assignment; None sorts as idle the longest
    # Her roles (users.is_counselor, users.is_phone_staff): which conversations she may take
    # (takes_channel); someone with both takes both.
    counselor: bool = True
    phone_staff: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitingConversation:
    id: ConversationId
    channel: ChannelKind
    priority: int
    waiting_since: datetime
    skill: str | None = None  # set by routing rules
    team: str | None = None
    language: str | None = None
    # Continuity: who last helped this contact, and when that conversation last changed (None:
    # no time limit, as for a follow-up's task, whose counselor is named here).
    previous_assignee: UserId | None = None
    previous_at: datetime | None = None
    declined_by: frozenset[UserId] = frozenset()  # offers that timed out: try someone else
    # A callback (a phone conversation): not offered before `not_before` (callback_due_at, the
    # next try), and only inside the window she allowed: contacts.call_window as stored, the
    # JSON text routing.callbacks.stored_window reads (it is kept as text here because neither
    # this ground floor nor storage may depend on routing; it is parsed once per distinct text).
    # None: no window of hers, the channel's service hours alone apply. The store sets both
    # only on phone conversations.
    not_before: datetime | None = None
    call_window: str | None = None


def takes_channel(channel: ChannelKind, *, counselor: bool, phone_staff: bool) -> bool:
    """Who may take a conversation on `channel`: a phone conversation (a callback) only phone
    staff, every other channel only counselors. The router's choice, its re-check in the store
    and a supervisor's assignment all ask here."""
    return phone_staff if channel is ChannelKind.PHONE else counselor


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingSnapshot:
    waiting: tuple[WaitingConversation, ...]
    agents: tuple[AgentLoad, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AwaitingAnswer:
    """An open conversation whose consulter waits for a person's answer, as the deadline
    watcher sees it."""

    id: ConversationId
    channel: ChannelKind
    priority: int
    awaiting_since: datetime | None
    first_reply_at: datetime | None
    first_response_due: datetime | None = None
    next_response_due: datetime | None = None
    warned_at: datetime | None = None
    escalated_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LastArrival:
    """An open conversation's latest inbound message time: what the auto-replier looks at
    again after a restart (Store.unreplied_arrivals), and the rules' reply templates a message
    of it asked for (Store.due_rule_replies)."""

    conversation_id: ConversationId
    channel: ChannelKind
    received_at: datetime
    templates: tuple[str, ...] = ()
    # Store.unreplied_arrivals only: her conversation's priority, and whether someone has it
    # (an assignee, or the router handed it to the person on call).
    priority: int = 0
    taken: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class UrgentArrival:
    """A message of an open conversation that triage marked urgent, in a conversation that never
    had the safety message: what a stopped process may have left unsent (Store.unsent_safety)."""

    conversation_id: ConversationId
    channel: ChannelKind
    received_at: datetime
    category: str  # the alert: an urgency category, or "rules:..." (no safety message)
    body: str  # read only to tell the language she wrote in; never logged


@dataclass(frozen=True, slots=True, kw_only=True)
class HandedToOnCall:
    """An open conversation the router handed to the person on call that never had the on-call
    message (Store.unsent_on_call), with what tells her language."""

    conversation_id: ConversationId
    language: str | None  # the rules' routing language of the conversation, if any
    body: str  # her alerted (else latest) message: read only to tell her language; never logged


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadlineChange:
    """What the watcher writes back: the due times to show, and an alarm to record."""

    conversation_id: ConversationId
    first_response_due: datetime | None
    next_response_due: datetime | None
    alarm: str | None = None  # "warn" or "breach"


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueDepth:
    """Unassigned conversations waiting on one channel at one priority."""

    channel: ChannelKind
    priority: int
    count: int
    oldest: datetime  # when the longest-waiting of them was queued


@dataclass(frozen=True, slots=True, kw_only=True)
class Assign:
    conversation_id: ConversationId
    user_id: UserId
    capacity: int  # the assignment holds only while the counselor's load stays below this
    channel: ChannelKind | None = None
    channel_capacity: int | None = None  # ... and her load on `channel` below this


@dataclass(frozen=True, slots=True, kw_only=True)
class Wait:
    conversation_id: ConversationId
    reason: str  # stable string for logs and dashboards


Decision = Assign | Wait
