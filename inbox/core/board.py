"""The supervisor's board as the store reads it, and the pure arithmetic over it: what an alert
is, today's waiting times (median, 90th percentile) and when the program's day began.

Ids, counts and times only: never a body, an address or an error text of a provider.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from inbox.core.decisions import AgentLoad, QueueDepth
from inbox.core.model import ChannelKind, ConversationId, ConversationStatus, Event, UserId

# The events a supervisor is alerted to, each acknowledged once (ALERT_ACKNOWLEDGED):
# urgent triage at intake, a response target near or missed, a reply that could not be sent;
# and an urgent conversation given to the on-call supervisor, which is a conversation_assigned
# event with "via": "on_call" (storage.events.VIA_ON_CALL), shown as ON_CALL_ALERT.
ALERT_KINDS = (
    "supervisors_alerted",
    "deadline_warning",
    "deadline_breached",
    "reply_failed",
)
ON_CALL_ALERT = "on_call_assigned"
ALERT_ACKNOWLEDGED = "alert_acknowledged"
# The board and the alert acknowledgement look this many events back (a range of the primary
# key, so its cost does not grow with the log): a busy desk writes a few thousand a day.
ALERT_WINDOW = 50_000


@dataclass(frozen=True, slots=True, kw_only=True)
class BoardConversation:
    """An open conversation as the board shows it: no body, no address."""

    id: ConversationId
    contact_id: int
    channel: ChannelKind
    status: ConversationStatus
    priority: int
    tags: tuple[str, ...]
    assignee_id: UserId | None
    waiting_since: datetime | None  # queued: since it was queued; else: since her last message
    due: datetime | None  # the earliest response deadline, if any


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelPause:
    channel: ChannelKind
    since: datetime
    by: UserId | None  # None: the pause is older than the events the board looks at


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertAck:
    event_id: int  # the alert's
    by: UserId
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    event: Event
    ack: AlertAck | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CounselorLink:
    """Whether her staff socket holds its lease (inbox.presence)."""

    user_id: UserId
    connected_until: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BoardRows:
    """The board as one consistent read gives it."""

    agents: tuple[AgentLoad, ...]  # every enabled counselor, her load counted from `assigned`
    names: dict[UserId, str]  # every staff member's display name
    depth: tuple[QueueDepth, ...]  # the queue by channel and priority, the most urgent first
    waiting: tuple[BoardConversation, ...]  # queued, unassigned: urgent first, then the oldest
    assigned: tuple[BoardConversation, ...]  # each counselor's open ones
    pauses: tuple[ChannelPause, ...]
    alerts: tuple[Alert, ...]  # newest first
    links: tuple[CounselorLink, ...]
    waits_today_s: tuple[float, ...]  # time to a first reply (or until now) of today's arrivals
    event_id: int  # the newest event when read


def alert_kind(kind: str, data: dict[str, object]) -> str | None:
    """What an event is on the board's alert feed (ALERT_KINDS, ON_CALL_ALERT), or None."""
    if kind in ALERT_KINDS:
        return kind
    if kind == "conversation_assigned" and data.get("via") == "on_call":
        return ON_CALL_ALERT
    return None


def day_start(now: datetime, tz: ZoneInfo) -> datetime:
    """When the program's day that holds `now` began (midnight in `tz`), as an aware time."""
    local = now.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile (0 < fraction <= 1) of `values`; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def waits(arrivals: Sequence[tuple[datetime, datetime | None]], now: datetime) -> tuple[float, ...]:
    """Seconds from each arrival to its first reply, or to now for those still unanswered."""
    return tuple(
        max(0.0, ((replied or now) - created).total_seconds()) for created, replied in arrivals
    )


def since(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else round((now - moment).total_seconds(), 3)
