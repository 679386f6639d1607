"""The audit log's questions: who did what to which conversation, when (a query over the events),
and which reads of a conversation count as one (a staff member's open, not her screen's refetch).

Pure: the clock and the program's time zone arrive as arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from inbox.core.model import ConversationId, Event, UserId
from inbox.core.windows import day_start

RECENT_READS_MAX = 20_000  # about 5 MB at most; a desk's reads within one window are far fewer

# The event of a staff member opening a conversation (or reading an earlier one of the same
# consulter from its timeline): written for the audit log only, never news for the screens.
CONVERSATION_READ = "conversation_read"
# A second read by the same person of the same conversation within this time is the same read:
# the console fetches the open conversation again on every event that concerns it, and a client
# cannot be trusted to say which fetch was an open (one that left the flag out would go unseen).
READ_COALESCE = timedelta(minutes=10)

AUDIT_PAGE_MAX = 200
# The events about staff accounts and sign-in: all of the log that an admin who is not also a
# supervisor reads (she manages accounts, not the work). None of them is about a conversation;
# a kind not named here is not hers to read.
ACCOUNT_KINDS = frozenset(
    {
        "user_created",
        "user_created_by",
        "user_updated",
        "user_enabled",
        "user_disabled",
        "password_reset",
        "password_changed",
        "signed_in",
        "sign_in_failures",
        "counselor_updated",
    }
)


class Actors(StrEnum):
    """Whose events, when no one staff member is asked for."""

    ANY = "any"  # everyone's, the system's too
    STAFF = "staff"  # a staff member's (the event names her)
    SYSTEM = "system"  # the server's own (intake, the router, deadlines): no actor


def about_accounts(event: Event) -> bool:
    """Whether an admin who is not also a supervisor reads the event (ACCOUNT_KINDS). Pure."""
    return event.kind in ACCOUNT_KINDS and event.conversation_id is None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditQuery:
    """Which events, newest first; every filter given must hold. Empty/None filter nothing."""

    actor_id: UserId | None = None  # one staff member's (then `actors` is not asked)
    actors: Actors = Actors.ANY
    kinds: tuple[str, ...] = ()
    conversation_id: ConversationId | None = None
    at_from: datetime | None = None  # at or after this ...
    at_before: datetime | None = None  # ... and before this
    before_id: int | None = None  # the cursor a previous page gave: its last row's id
    limit: int = 50
    accounts_only: bool = False  # only ACCOUNT_KINDS and no conversation's event (an admin's)

    def kinds_asked(self) -> tuple[str, ...] | None:
        """The kinds to select: None for any; an empty tuple for none at all (she asked only
        for kinds that are not hers to read)."""
        if not self.accounts_only:
            return self.kinds or None
        return tuple(k for k in self.kinds or sorted(ACCOUNT_KINDS) if k in ACCOUNT_KINDS)


def days_range(
    first: date | None, last: date | None, tz: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """From the start of `first` to the end of `last` (both included) in the program's time
    zone; either may be open."""
    start = None if first is None else day_start(first, tz)
    end = None if last is None else day_start(last + timedelta(days=1), tz)
    return start, end


@dataclass(frozen=True, slots=True)
class StandingRead:
    """What recording her read of a conversation did: `written`, a new conversation_read
    record at `at`; else it was the same read as her record at `at`, within the window."""

    written: bool
    at: datetime

    def __bool__(self) -> bool:
        """Whether it was written (so a write that found nothing to do reads as false)."""
        return self.written


class RecentReads:
    """The reads this process recorded lately, so that her screen's refetches within the window
    are answered without the database. The database stays the judge (another instance may
    have recorded her read): a miss here asks it. Bounded: past the size, the oldest go."""

    def __init__(self, *, window: timedelta = READ_COALESCE, max_entries: int = RECENT_READS_MAX):
        self._window = window
        self._max = max_entries
        self._at: dict[tuple[UserId, ConversationId], datetime] = {}

    def lately(self, user_id: UserId, conversation_id: ConversationId, now: datetime) -> bool:
        """Whether her read of it recorded here is newer than `now - window`."""
        at = self._at.get((user_id, conversation_id))
        return at is not None and at > now - self._window

    def recorded(self, user_id: UserId, conversation_id: ConversationId, now: datetime) -> None:
        key = (user_id, conversation_id)
        self._at.pop(key, None)  # to the end: the dict's order is the order of recording
        self._at[key] = now
        if len(self._at) > self._max:
            del self._at[next(iter(self._at))]
