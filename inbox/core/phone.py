"""The phone desk's records: a call as logged, what a try on a callback decided, and a
callback as phone staff's list shows it.

Stdlib only, on the ground floor: the store writes and reads these, the command layer builds
them, and the retry rule (routing.callbacks) is reached through the command layer's function,
so the store needs none of routing's types. No number is in any of them but NewCall.caller,
which goes only to channel_identities.address.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from inbox.core.labels import Label
from inbox.core.model import ContactId, ConversationId, ConversationStatus, UserId

MAX_CALL_NOTE_CHARS = 2000
MAX_CALL_DURATION_S = 86400


# The outcome a callback closes with when no try reached her ("callback_" + the reason of
# routing.callbacks.CloseReason): shown with the closed conversation like a closing outcome.
CALLBACK_CLOSED_OUTCOMES: tuple[Label, ...] = (
    Label(id="callback_tries_used", ja="折り返し：試行回数の上限", en="Callback: all tries used"),
    Label(
        id="callback_no_window",
        ja="折り返し：かけられる時間帯がない",
        en="Callback: no time left in her window",
    ),
)


class CallDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CallbackBy(StrEnum):
    """Who asked for a callback (the callback_requested event's `by`)."""

    STAFF = "staff"  # a staff member, from any channel or by a follow-up date
    MISSED_CALL = "missed_call"  # Twilio Voice: a call nobody answered


@dataclass(frozen=True, slots=True, kw_only=True)
class Caller:
    """Her number: the keyed hash it is matched by, and E.164 for channel_identities.address."""

    identity_hash: str
    e164: str

    def __repr__(self) -> str:  # never the number, not even in a traceback
        return "Caller(<number>)"


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenCallback:
    """A call with her number and no open phone conversation opens one as a callback, due
    then (a follow-up date's morning; now for a missed call) instead of a closed one."""

    due_at: datetime
    by: CallbackBy = CallbackBy.STAFF


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCall:
    """A call to log. `caller` None and no conversation: a withheld number (the calls row only).
    `conversation_id`: the callback being worked (her number is that conversation's)."""

    direction: CallDirection
    started_at: datetime
    duration_s: int | None
    outcome: str | None
    staff_id: UserId | None
    # The outcome reached her (a configured outcome's `reached`): a call of hers on an open
    # callback then ends it; one nobody answered only joins it.
    reached: bool = False
    withheld: bool = False
    caller: Caller | None = None
    conversation_id: ConversationId | None = None
    note: str = ""
    referrals: tuple[str, ...] = ()
    follow_up: date | None = None
    callback: OpenCallback | None = None
    call_sid: str | None = None  # Twilio Voice's id; None for a call logged by hand
    call_status: str | None = None
    # A supervisor's: may log a try on any callback. Phone staff only on one assigned to them,
    # or a queued one (then it is claimed for them in the same transaction).
    any_callback: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    id: int
    conversation_id: ConversationId | None
    contact_id: ContactId | None
    direction: CallDirection
    started_at: datetime
    duration_s: int | None
    withheld: bool
    outcome: str | None
    note: str  # her case in words: never logged, never in an event
    referrals: tuple[str, ...]
    follow_up: date | None
    staff_id: UserId | None
    call_sid: str | None
    call_status: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PastTry:
    """One try on a callback, as the retry rule reads it."""

    at: datetime
    outcome: str  # "" when none was logged: it did not reach her


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryAt:
    """Back to the queue, not offered before `at`."""

    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseCallback:
    reason: str  # reached, tries_used, no_window (routing.callbacks.CloseReason)
    outcome: str | None = None  # the reaching outcome's id, for reached
    # The try gave a follow-up date: a new callback opens, due then (the date's morning).
    follow_up_at: datetime | None = None


TryDecision = RetryAt | CloseCallback
# The command layer's retry rule: the tries made (the one just logged included) and her
# contact's call window (JSON text, None: the desk's hours) -> what happens next.
RetryRuleFn = Callable[[Sequence[PastTry], str | None], TryDecision]


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedCall:
    call: Call
    # What working a callback did; for a new callback (a follow-up) RetryAt its due time;
    # None when the call worked no callback.
    callback: TryDecision | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackRequest:
    """What request_callback did: the phone conversation (new, or the one open already), and
    whether her number was already another contact's (then the callback is that contact's,
    and the two are not merged: a supervisor may link them)."""

    conversation_id: ConversationId
    created: bool
    other_contact: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackRow:
    """An open phone conversation as phone staff's list needs it."""

    conversation_id: ConversationId
    contact_id: ContactId
    status: ConversationStatus
    assignee_id: UserId | None
    tries: int
    due_at: datetime | None  # not offered before; None: now
    window: str | None  # contacts.call_window, JSON text
    discretion: bool
    waiting_since: datetime  # queued_at


__all__: Sequence[str] = (
    "MAX_CALL_DURATION_S",
    "MAX_CALL_NOTE_CHARS",
    "Call",
    "CallDirection",
    "CallbackBy",
    "CallbackRequest",
    "CallbackRow",
    "Caller",
    "CloseCallback",
    "LoggedCall",
    "NewCall",
    "OpenCallback",
    "PastTry",
    "RetryAt",
    "RetryRuleFn",
    "TryDecision",
)
