"""Response targets: when an answer is due, when supervisors are warned, when it is breached.

Pure. A first response is due a target after the consulter's first unanswered message, a next
response likewise after she writes again; both counted in her channel's service time, except
for urgent conversations, which count every minute (they are answered outside hours too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from inbox.core.decisions import AwaitingAnswer
from inbox.core.errors import ConfigError
from inbox.core.model import ChannelKind
from routing.hours import ALWAYS_OPEN, ServiceHours, add_service_time


@dataclass(frozen=True, slots=True, kw_only=True)
class Targets:
    first: timedelta
    next: timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseTargets:
    normal: Targets = Targets(first=timedelta(hours=1), next=timedelta(hours=2))
    urgent: Targets = Targets(first=timedelta(minutes=10), next=timedelta(minutes=15))
    by_channel: tuple[tuple[ChannelKind, Targets], ...] = ()  # normal targets per channel
    warn_fraction: float = 0.8
    urgent_priority: int = 100


class Alarm(StrEnum):
    WARN = "warn"  # supervisors are told the deadline is near
    BREACH = "breach"  # escalated: raised to urgent, offered to anyone eligible


@dataclass(frozen=True, slots=True, kw_only=True)
class Deadline:
    due: datetime
    warn_at: datetime
    first: bool  # a first response (else a next one)


def deadline(
    targets: ResponseTargets, hours: ServiceHours, conv: AwaitingAnswer
) -> Deadline | None:
    """When her answer is due; None when she is not waiting or the service never opens."""
    if conv.awaiting_since is None:
        return None
    urgent = conv.priority >= targets.urgent_priority
    chosen = (
        targets.urgent if urgent else dict(targets.by_channel).get(conv.channel, targets.normal)
    )
    first = conv.first_reply_at is None
    span = chosen.first if first else chosen.next
    clock = ALWAYS_OPEN if urgent else hours
    due = add_service_time(clock, conv.awaiting_since, span)
    warn_at = add_service_time(clock, conv.awaiting_since, span * targets.warn_fraction)
    if due is None or warn_at is None:
        return None
    return Deadline(due=due, warn_at=warn_at, first=first)


def alarm(d: Deadline, conv: AwaitingAnswer, now: datetime) -> Alarm | None:
    """What is newly due now: each alarm once per wait (a reply resets both)."""
    if now >= d.due and conv.escalated_at is None:
        return Alarm.BREACH
    if now >= d.warn_at and conv.warned_at is None and conv.escalated_at is None:
        return Alarm.WARN
    return None


def next_alarm_at(d: Deadline, conv: AwaitingAnswer) -> datetime | None:
    """When alarm(d, conv, now) first raises one: None before it, one from it (None: never)."""
    if conv.escalated_at is not None:
        return None
    if conv.warned_at is None:
        return min(d.warn_at, d.due)
    return d.due


# --- parsing [routing.targets] ----------------------------------------------------------------

_TARGET_KEYS = ("first_response_min", "next_response_min")


def _minutes(table: Mapping[str, object], key: str, where: str, default: timedelta) -> timedelta:
    value = table.get(key, default.total_seconds() / 60)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where}.{key}: expected minutes > 0, got {value!r}")
    return timedelta(minutes=value)


def _targets(raw: object, where: str, default: Targets) -> Targets:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a table with {' and '.join(_TARGET_KEYS)}")
    unknown = sorted(set(raw) - set(_TARGET_KEYS))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key; allowed: {', '.join(_TARGET_KEYS)}")
    return Targets(
        first=_minutes(raw, "first_response_min", where, default.first),
        next=_minutes(raw, "next_response_min", where, default.next),
    )


def parse_targets(raw: object, where: str = "routing.targets") -> ResponseTargets:
    """[routing.targets]: warn_fraction, [normal], [urgent] and one table per channel."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a table")
    base = ResponseTargets()
    channels = {c.value: c for c in ChannelKind}
    by_channel: list[tuple[ChannelKind, Targets]] = []
    for key in raw:
        if key not in ("warn_fraction", "normal", "urgent", *channels):
            allowed = ", ".join(("warn_fraction", "normal", "urgent", *channels))
            raise ConfigError(f"{where}.{key}: unknown key; allowed: {allowed}")
    fraction = raw.get("warn_fraction", base.warn_fraction)
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction < 1:
        raise ConfigError(
            f"{where}.warn_fraction: expected a number between 0 and 1, got {fraction!r}"
        )
    normal = _targets(raw.get("normal", {}), f"{where}.normal", base.normal)
    urgent = _targets(raw.get("urgent", {}), f"{where}.urgent", base.urgent)
    for name, channel in channels.items():
        if name in raw:
            by_channel.append((channel, _targets(raw[name], f"{where}.{name}", normal)))
    return ResponseTargets(
        normal=normal, urgent=urgent, by_channel=tuple(by_channel), warn_fraction=float(fraction)
    )


def due_columns(d: Deadline | None) -> tuple[datetime | None, datetime | None]:
    """(first_response_due, next_response_due) as the conversation shows them."""
    if d is None:
        return None, None
    return (d.due, None) if d.first else (None, d.due)


__all__: Sequence[str] = (
    "Alarm",
    "Deadline",
    "ResponseTargets",
    "Targets",
    "alarm",
    "deadline",
    "due_columns",
    "next_alarm_at",
    "parse_targets",
)
