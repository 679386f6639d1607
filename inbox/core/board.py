"""The supervisor's board as the store reads it, and the pure arithmetic over it: what an alert
is, and today's waiting times (median, 90th percentile).

Ids, counts and times only: never a body, an address or an error text of a provider.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

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
    by: UserId | None  # None: paused before who paused was kept (storage migration 13)


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
    alerts: tuple[Alert, ...]  # the newest open ones and acknowledged ones, newest first
    links: tuple[CounselorLink, ...]
    # today's arrivals' waits: to the first reply, or until closed without one, or until now
    waits_today_s: tuple[float, ...]
    event_id: int  # the newest event when read


def alert_kind(kind: str, data: dict[str, object]) -> str | None:
    """What an event is on the board's alert feed (ALERT_KINDS, ON_CALL_ALERT), or None."""
    if kind in ALERT_KINDS:
        return kind
    if kind == "conversation_assigned" and data.get("via") == "on_call":
        return ON_CALL_ALERT
    return None


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile (0 < fraction <= 1) of `values`; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def since(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else round((now - moment).total_seconds(), 3)


# ---- LINE's monthly message quota (issue 16): what the board says of it ----------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class QuotaStanding:
    """This month's pushes against the account's limit, as the board shows them."""

    limit: int | None  # messages a month; None: no limit
    used: int
    remaining: int | None  # None: no limit
    percent: int | None  # used / limit, rounded down (99% is not yet 100%); None: no limit
    warn: bool  # used has reached warn_percent of the limit
    exhausted: bool  # used has reached the limit: pushes are refused until next month


def quota_standing(limit: int | None, used: int, warn_percent: int) -> QuotaStanding:
    """Where this month's `used` stands against `limit` ([line].quota_warn_percent: warn_percent).
    Integer arithmetic only, so that exactly 80% warns at 80 and 79.9% does not. A limit of 0
    (an account that may push nothing) is exhausted from the start."""
    used = max(0, used)
    if limit is None:
        return QuotaStanding(
            limit=None, used=used, remaining=None, percent=None, warn=False, exhausted=False
        )
    limit = max(0, limit)
    return QuotaStanding(
        limit=limit,
        used=used,
        remaining=max(0, limit - used),
        percent=100 * used // limit if limit else 100,
        warn=used * 100 >= warn_percent * limit,
        exhausted=used >= limit,
    )
