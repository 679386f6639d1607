"""Follow-ups (近況確認): a counselor's date to ask after a consulter, as the records, the
watcher that queues them on their day, and the screens see it. Stdlib only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from inbox.core.casework import FOLLOW_UP_OUTCOMES, ids
from inbox.core.model import ChannelKind, ContactId, ConversationId, UserId

# How far ahead a follow-up may be set, and the longest note (staff only, never sent to her).
MAX_FOLLOW_UP_DAYS = 366
MAX_FOLLOW_UP_NOTE_CHARS = 500
DEFAULT_FOLLOW_UP_DAYS = 7  # the console's date picker starts a week ahead
OUTCOME_IDS = ids(FOLLOW_UP_OUTCOMES)


class FollowUpStatus(StrEnum):
    SCHEDULED = "scheduled"  # before its day
    DUE = "due"  # its day came: a task in the queue (conversation_id) until resolved
    DONE = "done"
    SKIPPED = "skipped"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"  # withdrawn before its day

    @property
    def open(self) -> bool:
        return self in (FollowUpStatus.SCHEDULED, FollowUpStatus.DUE)


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowUp:
    id: int
    contact_id: ContactId
    identity_id: int  # the identity (and so the channel) she is written to on
    channel: ChannelKind
    from_conversation_id: ConversationId | None
    counselor_id: UserId | None  # offered the task first
    due_on: date  # a calendar day in the program's zone
    note: str
    status: FollowUpStatus
    conversation_id: ConversationId | None  # the task, once due
    created_by: UserId | None
    created_at: datetime
    resolved_at: datetime | None = None
    resolved_by: UserId | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewFollowUp:
    """What a counselor sets, checked (inbox.commands.follow_ups)."""

    from_conversation_id: ConversationId
    due_on: date
    note: str = ""
    identity_id: int | None = None  # None: the conversation's own identity
    counselor_id: UserId | None = None  # None: the one who sets it


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduledFollowUp:
    """A follow-up not yet due, as the watcher decides when it is: its day, its channel, and
    for a phone identity the call window her contact allowed (JSON text, as stored)."""

    id: int
    due_on: date
    channel: ChannelKind
    call_window: str | None = None
